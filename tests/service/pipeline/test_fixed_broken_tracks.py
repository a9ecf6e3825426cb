"""A fixed camera loses a staying stall twice for longer than its tracks are kept: it is still one candidate."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from factories.database import created_engine
from factories.recording import fixed_camera_recorder
from sqlalchemy import select

from service.db import session_factory
from service.db.models import Candidate
from service.db.models import Sighting as SightingRow
from service.pipeline.source import PipelineSettings, SourcePipeline
from vision.detections import Detections
from vision.frame import Frame, GeoPoint
from vision.sighting import Sighting
from vision.taxonomy import load_taxonomy

NAMES = load_taxonomy().class_names
START = datetime(2026, 5, 6, 2, 0, tzinfo=UTC)
STALL_BOX = (180.0, 120.0, 260.0, 200.0)


@dataclass(frozen=True)
class Appearance:
    """An object in view from ``start`` to ``end`` seconds, missed by the detector during each ``hidden`` span."""

    box: tuple[float, float, float, float]
    start: float
    end: float
    hidden: tuple[tuple[float, float], ...] = ()

    def shown_at(self, t: float) -> bool:
        return self.start <= t <= self.end and not any(a <= t <= b for a, b in self.hidden)


# Hidden for 45 s twice (a bus, a detector dip): longer than the 30 s a fixed camera's tracks are kept, so the
# stall comes back as a new track each time; no piece alone stays the 180 s a stall needs.
STALL = Appearance(STALL_BOX, 20.0, 320.0, hidden=((150.0, 195.0), (230.0, 275.0)))
BRIEF_STOP = Appearance((90.0, 120.0, 170.0, 200.0), 60.0, 110.0)  # beside the stall, 50 s
PASSER_BY = Appearance((10.0, 10.0, 40.0, 60.0), 5.0, 15.0)


class ScheduledStalls:
    """Detects the vendor stalls the schedule shows at each frame's time."""

    def __init__(self, appearances: Sequence[Appearance]) -> None:
        self.appearances = appearances

    def detect_frames(self, frames: Sequence[Frame]) -> list[Detections]:
        out = []
        for frame in frames:
            shown = [a for a in self.appearances if a.shown_at(frame.timestamp)]
            out.append(
                Detections(
                    xyxy=np.array([a.box for a in shown], np.float32).reshape(-1, 4),
                    confidence=np.full(len(shown), 0.8, np.float32),
                    class_id=np.full(len(shown), NAMES.index("vendor_stall"), np.int64),
                )
            )
        return out


def frames(seconds: float, clock: list[float] | None = None, fps: float = 2.0) -> Iterator[Frame]:
    image = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    for index in range(int(seconds * fps)):
        if clock is not None:
            clock.append(index / fps)
        yield Frame(image=image, source_id="street.mp4", index=index, timestamp=index / fps)


def sightings(kind: str, appearances: Sequence[Appearance], clock: list[float] | None = None) -> list[Sighting]:
    seen: list[Sighting] = []
    settings = PipelineSettings.for_camera(kind, NAMES, 2.0)
    SourcePipeline(ScheduledStalls(appearances), settings).run(frames(400.0, clock), seen.append)
    return seen


def test_a_stall_whose_track_broke_twice_is_one_candidate_and_a_brief_stop_is_not(tmp_path: Path) -> None:
    with created_engine("sqlite", tmp_path) as engine:
        sink = fixed_camera_recorder(
            session_factory(engine), "street.mp4", START, camera_key="cam-1", at=GeoPoint(31.2304, 121.4737)
        )
        settings = PipelineSettings.for_camera("fixed", NAMES, 2.0)
        SourcePipeline(ScheduledStalls([STALL, BRIEF_STOP]), settings).run(frames(400.0), sink.handle)
        with session_factory(engine)() as session:
            candidates = list(session.scalars(select(Candidate)))
            rows = list(session.scalars(select(SightingRow)))
    assert [c.class_name for c in candidates] == ["vendor_stall"]
    assert (candidates[0].last_seen - candidates[0].first_seen).total_seconds() >= 290  # 20 s -> 320 s
    assert len(rows) == 2
    [dropped] = [row for row in rows if row.status == "dropped"]
    assert "needs 180 s" in (dropped.drop_reason or "")


def test_patrol_video_keeps_the_pieces_apart() -> None:
    # On a moving camera the same image place is another place on the street: nothing is merged.
    pieces = [s for s in sightings("patrol", [STALL]) if s.class_name == "vendor_stall"]
    assert len(pieces) == 3


def test_a_sighting_is_handed_on_once_nothing_later_can_join_it_not_at_the_end_of_the_source() -> None:
    clock: list[float] = []
    handed_at: list[float] = []
    settings = PipelineSettings.for_camera("fixed", NAMES, 2.0)
    stationary = settings.stationary
    assert stationary is not None

    def on_sighting(sighting: Sighting) -> None:
        handed_at.append(clock[-1])

    SourcePipeline(ScheduledStalls([PASSER_BY, STALL]), settings).run(frames(400.0, clock), on_sighting)
    assert len(handed_at) == 2
    passer_by_lost = PASSER_BY.end + settings.lost_after_s
    assert passer_by_lost < handed_at[0] <= passer_by_lost + stationary.reach_s + 1.0 < 399.5
    assert handed_at[1] == clock[-1]  # the stall, still in view when the source ended
