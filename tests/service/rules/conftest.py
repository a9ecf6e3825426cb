"""Observations and taxonomies for the rules tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from service.violations.observation import Observation
from vision.frame import GeoPoint
from vision.taxonomy import DEFAULT_TAXONOMY_PATH, Taxonomy, load_taxonomy

NOON_UTC = datetime(2025, 6, 6, 12, 0, tzinfo=UTC)  # a Friday; 20:00 in Shanghai


def make_observation(
    class_name: str = "vendor_stall",
    *,
    at: datetime = NOON_UTC,
    dwell_s: float = 600.0,
    frames: int = 50,
    score: float = 0.8,
    where: tuple[float, float] | None = None,
    kind: str | None = "fixed",
    tracked: int | None = None,
) -> Observation:
    """An observation first seen ``at`` and last seen ``dwell_s`` later, at ``where`` (lat, lon) if given; detected in
    ``frames`` of the ``tracked`` frames tracked meanwhile, when given."""
    return Observation(
        source="cam-7.mp4",
        track_key="1",
        class_name=class_name,
        first_seen=at,
        last_seen=at + timedelta(seconds=dwell_s),
        frames_seen=frames,
        score=score,
        location=GeoPoint(*where) if where is not None else None,
        camera_key="cam-7",
        camera_kind=kind,
        frames_tracked=tracked,
    )


@pytest.fixture
def observe() -> Callable[..., Observation]:
    """``make_observation``: an observation at 2025-06-06 12:00 UTC (a Friday, 20:00 in Shanghai), 600 s long."""
    return make_observation


@pytest.fixture(scope="session")
def examples() -> Path:
    """The sample rules folder shipped for the demo."""
    return Path(__file__).resolve().parents[3] / "service" / "rules" / "examples"


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    """The shipped taxonomy."""
    return load_taxonomy()


@pytest.fixture(scope="session")
def taxonomy_with_context(tmp_path_factory: pytest.TempPathFactory) -> Taxonomy:
    """The shipped taxonomy plus a context class ``window`` (scene context, never a violation)."""
    text = DEFAULT_TAXONOMY_PATH.read_text(encoding="utf-8")
    text += "  - name: window\n    zh: 窗户\n    en: Window\n    violation: context\n"
    path = tmp_path_factory.mktemp("taxonomy") / "taxonomy.yaml"
    path.write_text(text, encoding="utf-8")
    return load_taxonomy(path)
