"""A live fixed camera through the whole pipeline: the staying stall is reported while still there, once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from factories.database import BACKENDS, created_engine
from factories.evidence import textured_image
from factories.recording import fixed_camera_recorder
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError

from service.cameras.queries import create_camera
from service.db import session_factory
from service.db.models import Candidate, Evidence, Sighting
from service.evidence import EvidenceStore
from service.pipeline.stream import PipelineHandler, StreamClock, stream_tracking
from service.pipeline.stream_setup import PipelineHandlers, pipeline_handler_factory, run_source_id
from service.pipeline.wiring import RecordingServices
from service.references import ReferenceStore, capture_reference
from service.streams import StreamSpec
from vision.detections import Detections
from vision.frame import Frame, GeoPoint
from vision.taxonomy import load_taxonomy

NAMES = tuple(load_taxonomy().class_names)
START = datetime(2026, 5, 6, 2, 0, tzinfo=UTC)
IMAGE = textured_image(240, 320, seed=3)
SIGN = (20.0, 20.0, 140.0, 50.0)
STALL = (180.0, 120.0, 260.0, 200.0)
CART = (40.0, 130.0, 110.0, 200.0)


@dataclass(frozen=True)
class Shown:
    class_name: str
    box: tuple[float, float, float, float]
    start: float
    end: float


STREET = (
    Shown("signboard", SIGN, 0.0, 1e9),  # the shop's sign: in the reference image
    Shown("vendor_stall", STALL, 20.0, 260.0),  # stays four minutes
    Shown("vendor_stall", CART, 60.0, 80.0),  # a cart that passes by
)


class ScheduledDetector:
    """Detects what the schedule shows at each frame's stream time (a thread-safe `FrameDetector`)."""

    names = NAMES

    def __init__(self, shown: Sequence[Shown] = STREET) -> None:
        self.shown = shown

    def detect_frames(self, frames: Sequence[Frame]) -> list[Detections]:
        found = []
        for frame in frames:
            visible = [s for s in self.shown if s.start <= frame.timestamp <= s.end]
            found.append(
                Detections(
                    xyxy=np.array([s.box for s in visible], np.float32).reshape(-1, 4),
                    confidence=np.full(len(visible), 0.8, np.float32),
                    class_id=np.array([NAMES.index(s.class_name) for s in visible], np.int64),
                )
            )
        return found


def gated_times(end: float, busy: Sequence[tuple[float, float]], force_every: float = 5.0) -> list[float]:
    """What a gated fixed camera hands on: 2 fps while something moves (``busy``), a forced frame every 5 s else."""
    times = set(np.arange(0.0, end, force_every).round(3).tolist())
    for first, last in busy:
        times |= set(np.arange(first, last, 0.5).round(3).tolist())
    return sorted(times)


def frames(times: Sequence[float], *, key: str = "cam-1", offset: float = 0.0) -> Iterator[Frame]:
    for index, time in enumerate(times):
        yield Frame(IMAGE, key, index, time - offset, wall_time=START + timedelta(seconds=time))


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with created_engine(request.param, tmp_path) as made:
        yield made


def camera_with_reference(engine: Engine, references: ReferenceStore) -> None:
    with session_factory(engine)() as session:
        create_camera(session, key="cam-1", kind="fixed", name="Gate 3", lat=31.2304, lon=121.4737)
        capture_reference(
            session, store=references, camera_key="cam-1", image=IMAGE, taken_at=START - timedelta(days=1)
        )
        session.commit()


def handlers(engine: Engine, tmp_path: Path) -> PipelineHandlers:
    references = ReferenceStore(tmp_path / "references")
    camera_with_reference(engine, references)
    services = RecordingServices.open(engine, evidence=EvidenceStore(tmp_path / "evidence"))
    return pipeline_handler_factory(
        services=services, detector=ScheduledDetector(), references=references, gap_s=5.0, clock=lambda: START
    )


def rows(engine: Engine) -> tuple[list[Candidate], list[Sighting], list[Evidence]]:
    with session_factory(engine)() as session:
        return (
            list(session.scalars(select(Candidate))),
            list(session.scalars(select(Sighting).order_by(Sighting.id))),
            list(session.scalars(select(Evidence))),
        )


def test_a_staying_stall_is_reported_while_there_and_only_once(engine: Engine, tmp_path: Path) -> None:
    factory = handlers(engine, tmp_path)
    handler = factory(StreamSpec(key="cam-1", url="rtsp://10.0.0.1/main", kind="fixed"))
    assert isinstance(handler, PipelineHandler)
    times = gated_times(330.0, busy=[(18.0, 25.0), (58.0, 82.0), (258.0, 265.0)])

    for frame in frames([t for t in times if t <= 240.0]):
        handler.handle(frame)
    while_there, _, _ = rows(engine)
    stats_while_there = (handler.stats.reported_open, handler.stats.open_tracks)
    for frame in frames([t for t in times if t > 240.0]):
        handler.handle(frame)
    handler.close()

    assert [c.class_name for c in while_there] == ["vendor_stall"]  # reported before the stall left
    assert stats_while_there[0] == 1 and stats_while_there[1] >= 2
    candidates, sightings, evidence = rows(engine)
    assert len(candidates) == 1 and candidates[0].id == while_there[0].id
    stall = candidates[0]
    assert stall.sightings_count == 1
    assert stall.last_seen == START + timedelta(seconds=260)  # moved on when the track ended
    assert sorted(e.kind for e in evidence) == ["crop", "frame", "source"]  # one set, not two
    kept = [s for s in sightings if s.candidate_id is not None]
    assert len(kept) == 1 and kept[0].last_seen == START + timedelta(seconds=260) and kept[0].dwell_s >= 235
    assert kept[0].frames_seen == sum(20.0 <= t <= 260.0 for t in times)  # every frame it was detected in
    assert {s.source for s in sightings} == {run_source_id("cam-1", START)}
    dropped = sorted(s.drop_reason or "" for s in sightings if s.status == "dropped")
    assert len(dropped) == 2  # the passing cart, the sign already in the reference
    assert any("needs 180 s" in reason for reason in dropped) and any("reference image" in r for r in dropped)
    assert handler.stats.opened == 1 and handler.stats.ended == 3 and handler.stats.extended >= 1
    assert factory.stats() == {}  # closed handlers are forgotten


def watch(gap_s: float, times: Sequence[float], engine: Engine, *, merge: bool = True) -> PipelineHandler:
    shown = [Shown("vendor_stall", STALL, 0.0, 1e9)]
    tracking = stream_tracking("fixed", NAMES, 2.0, gap_s)
    if not merge:
        tracking = replace(tracking, stationary=None)
    sink = fixed_camera_recorder(session_factory(engine), "cam-2@run", START, camera_key="cam-2")
    handler = PipelineHandler(detector=ScheduledDetector(shown), tracking=tracking, sink=sink)
    for frame in frames(times, key="cam-2"):
        handler.handle(frame)
    handler.close()
    return handler


def test_gate_gaps_do_not_split_tracks(tmp_path: Path) -> None:
    # Something moves for a moment every 45 s (two frames pass the gate), the view is still in between.
    every_45_s = [45.0 * n + step for n in range(10) for step in (0.0, 0.5)]
    with created_engine("sqlite", tmp_path) as engine:
        gated = watch(45.0, every_45_s, engine)
        ungated = watch(0.0, every_45_s, engine, merge=False)
        merged = watch(0.0, every_45_s, engine)

    assert stream_tracking("fixed", NAMES, 2.0, 45.0).lost_after_s == 90.0
    assert stream_tracking("fixed", NAMES, 2.0, 5.0).lost_after_s == 30.0  # the fixed-camera default already covers 5 s
    assert gated.stats.ended == 1
    assert ungated.stats.ended == 10  # the control: kept only 30 s, every gap ends the track
    assert merged.stats.ended == 1  # ... and its pieces in one place are one static object again


def test_a_reconnection_restarting_timestamps_continues_the_clock_and_the_track(tmp_path: Path) -> None:
    clock = StreamClock()
    first = [clock.time_of(f) for f in frames([0.0, 0.5, 1.0])]
    # The source was reopened 10 s later: its timestamps start at 0 again.
    second = [clock.time_of(f) for f in frames([11.0, 11.5], offset=11.0)]
    assert first == [0.0, 0.5, 1.0] and second == pytest.approx([11.0, 11.5])

    times = [t * 0.5 for t in range(40)]
    reopened = [*frames(times[:20]), *frames(times[20:], offset=times[20])]
    shown = [Shown("vendor_stall", STALL, 0.0, 1e9)]
    with created_engine("sqlite", tmp_path) as engine:
        sink = fixed_camera_recorder(session_factory(engine), "cam-3@run", START)
        handler = PipelineHandler(
            detector=ScheduledDetector(shown), tracking=stream_tracking("fixed", NAMES, 2.0, 5.0), sink=sink
        )
        for frame in reopened:
            handler.handle(frame)
        handler.close()
    assert handler.stats.ended == 1 and handler.stats.frames == 40


def test_a_database_failure_is_counted_and_raised_after_the_other_sightings() -> None:
    def broken() -> object:
        raise OperationalError("SELECT 1", {}, Exception("database is down"))

    sink = fixed_camera_recorder(broken, "cam-4@run", START)  # type: ignore[arg-type]
    shown = [Shown("vendor_stall", STALL, 0.0, 1e9), Shown("vendor_stall", CART, 0.0, 1e9)]
    handler = PipelineHandler(
        detector=ScheduledDetector(shown), tracking=stream_tracking("fixed", NAMES, 2.0, 5.0), sink=sink
    )
    for frame in frames([0.0, 0.5, 1.0]):
        handler.handle(frame)

    with pytest.raises(RuntimeError, match=r"2 sighting\(s\) not recorded \(OperationalError"):
        handler.close()
    assert handler.stats.errors == 2 and handler.stats.ended == 2


def test_a_stall_whose_track_broke_is_reported_while_there_as_one_sighting(tmp_path: Path) -> None:
    # Missed for 45 s twice (longer than the 30 s its tracks are kept): three tracks, none 180 s long on its own.
    broken = [
        Shown("vendor_stall", STALL, start, end) for start, end in [(20.0, 100.0), (145.0, 200.0), (245.0, 330.0)]
    ]
    with created_engine("sqlite", tmp_path) as engine:
        sink = fixed_camera_recorder(
            session_factory(engine), "cam-4@run", START, camera_key="cam-4", at=GeoPoint(31.2304, 121.4737)
        )
        handler = PipelineHandler(
            detector=ScheduledDetector(broken), tracking=stream_tracking("fixed", NAMES, 2.0, 5.0), sink=sink
        )
        times = gated_times(400.0, busy=[(0.0, 400.0)])
        for frame in frames([t for t in times if t <= 300.0], key="cam-4"):
            handler.handle(frame)
        while_there, _, _ = rows(engine)
        for frame in frames([t for t in times if t > 300.0], key="cam-4"):
            handler.handle(frame)
        handler.close()
        candidates, sightings, _ = rows(engine)
    assert [c.class_name for c in while_there] == ["vendor_stall"]  # 20 s -> 250 s+ before the stall left
    assert [c.id for c in candidates] == [while_there[0].id]
    assert len(sightings) == 1 and sightings[0].last_seen == START + timedelta(seconds=330)
    assert handler.stats.ended == 1 and handler.stats.opened == 1
