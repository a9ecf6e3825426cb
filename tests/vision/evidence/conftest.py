"""Font fixtures: no CJK font (English captions), or a stand-in that has a glyph for every character."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from vision.fonts import CJK_FONT_ENV


@pytest.fixture
def no_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    """Act as if the machine had no CJK font."""
    monkeypatch.setenv(CJK_FONT_ENV, "none")


@pytest.fixture
def stand_in_cjk_font(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Matplotlib's Last Resort font: one placeholder glyph per Unicode block, so it "has" every character.

    It exercises the Chinese path on machines without a real CJK font (its glyphs are block symbols, not hanzi).
    """
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        pytest.skip("matplotlib (for its Last Resort font) is not installed")
    path = Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / "LastResortHE-Regular.ttf"
    if not path.is_file():
        pytest.skip(f"no Last Resort font at {path}")
    monkeypatch.setenv(CJK_FONT_ENV, str(path))
    return path
