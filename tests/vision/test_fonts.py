"""Finding a CJK font, and telling which characters a font really has."""

from __future__ import annotations

import pytest

from vision.fonts import CJK_FONT_ENV, cjk_font_path, covers, load_font


def test_none_means_no_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CJK_FONT_ENV, "NONE")
    assert cjk_font_path() is None


def test_a_forced_font_is_used_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CJK_FONT_ENV, "/opt/fonts/SomeCJK.otf")
    assert cjk_font_path() == "/opt/fonts/SomeCJK.otf"


def test_the_font_folders_are_searched_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Evidence captions ask twice per candidate: a stream queueing 40 at once walked the font folders 80 times."""
    import glob

    searches: list[str] = []
    real_glob = glob.glob

    def counting_glob(pattern: str, **kwargs: object) -> list[str]:
        searches.append(pattern)
        return real_glob(pattern, **kwargs)  # type: ignore[arg-type]

    monkeypatch.delenv(CJK_FONT_ENV, raising=False)
    monkeypatch.setattr(glob, "glob", counting_glob)
    first = cjk_font_path()
    searched = len(searches)
    assert [cjk_font_path() for _ in range(5)] == [first] * 5
    assert len(searches) == searched


def test_builtin_font_covers_latin_but_not_chinese() -> None:
    font = load_font(None, 18)
    assert covers(font, "Banner 0.87  ± 8 m")
    assert not covers(font, "横幅")
    assert not covers(font, "a横")


def test_unreadable_font_file_raises() -> None:
    with pytest.raises(OSError):
        load_font("/nonexistent/font.ttf", 18)
