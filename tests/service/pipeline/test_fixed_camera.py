"""A fixed camera watched for minutes: only the stall that stays becomes a candidate, once, with its evidence."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from factories.database import created_engine
from factories.recording import fixed_camera_recorder
from sqlalchemy import Engine, select

from service.db import session_factory
from service.db.models import Candidate, Evidence, Sighting
from service.evidence import EvidenceStore
from service.pipeline.baseline import Baseline
from service.pipeline.record import SightingRecorder
from service.pipeline.source import PipelineSettings, SourcePipeline
from vision.detections import Detections
from vision.errors import SourceError
from vision.frame import Frame, GeoPoint
from vision.taxonomy import load_taxonomy

NAMES = load_taxonomy().class_names
START = datetime(2026, 5, 6, 2, 0, tzinfo=UTC)
CAMERA = GeoPoint(31.2304, 121.4737)
SIZE = (240, 320)  # height, width


@dataclass(frozen=True)
class Appearance:
    """An object in view from ``start`` to ``end`` seconds (missed by the detector during ``hidden``)."""

    class_name: str
    box: tuple[float, float, float, float]
    start: float
    end: float
    hidden: tuple[float, float] = (-1.0, -1.0)


class ScheduledDetector:
    """Detects what the schedule says is in view at each frame's time."""

    def __init__(self, appearances: Sequence[Appearance]) -> None:
        self.appearances = appearances

    def detect_frames(self, frames: Sequence[Frame]) -> list[Detections]:
        out = []
        for frame in frames:
            t = frame.timestamp
            shown = [a for a in self.appearances if a.start <= t <= a.end and not (a.hidden[0] <= t <= a.hidden[1])]
            out.append(
                Detections(
                    xyxy=np.array([a.box for a in shown], np.float32).reshape(-1, 4),
                    confidence=np.full(len(shown), 0.8, np.float32),
                    class_id=np.array([NAMES.index(a.class_name) for a in shown], np.int64),
                )
            )
        return out


STREET = (
    Appearance("signboard", (20, 20, 140, 50), 0.0, 400.0),  # the shop's sign: in the reference, not new
    Appearance("vendor_stall", (180, 120, 260, 200), 50.0, 290.0, hidden=(150.0, 165.0)),  # stays 4 min, a bus passes
    Appearance("vendor_stall", (40, 130, 110, 200), 60.0, 95.0),  # a tricycle vendor stops briefly
)


def frames(seconds: float, fps: float = 2.0, fail_at: float | None = None) -> Iterator[Frame]:
    """Textured frames of one source at ``fps``; raises SourceError at ``fail_at`` like a truncated file."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (*SIZE, 3), dtype=np.uint8)
    for index in range(int(seconds * fps)):
        t = index / fps
        if fail_at is not None and t >= fail_at:
            raise SourceError("street.mp4", "truncated")
        yield Frame(image=image, source_id="street.mp4", index=index, timestamp=t)


def scan(engine: Engine, evidence: Path, source: Iterator[Frame]) -> SightingRecorder:
    detector = ScheduledDetector(STREET)
    reference = next(frames(1.0))
    sink = fixed_camera_recorder(
        session_factory(engine),
        "street.mp4",
        START,
        camera_key="cam-1",
        camera_name="cam 1",
        at=CAMERA,
        evidence=EvidenceStore(evidence),
        baseline=Baseline(detector.detect_frames([reference])[0], NAMES, START),
    )
    SourcePipeline(detector, PipelineSettings.for_camera("fixed", NAMES, 2.0)).run(source, sink.handle)
    return sink


def test_only_the_staying_stall_becomes_one_candidate(tmp_path: Path) -> None:
    with created_engine("sqlite", tmp_path) as engine:
        sink = scan(engine, tmp_path / "evidence", frames(400.0))
        with session_factory(engine)() as session:
            candidates = list(session.scalars(select(Candidate)))
            sightings = list(session.scalars(select(Sighting)))
            evidence = list(session.scalars(select(Evidence)))
    assert [c.class_name for c in candidates] == ["vendor_stall"]
    stall = candidates[0]
    assert stall.first_seen >= datetime(2026, 5, 6, 2, 0, 50, tzinfo=UTC)
    assert (stall.last_seen - stall.first_seen).total_seconds() >= 230  # one sighting across the 15 s behind a bus
    reasons = sorted(s.drop_reason or "" for s in sightings if s.status == "dropped")
    assert len(reasons) == 2
    assert any("reference image" in r for r in reasons) and any("needs 180 s" in r for r in reasons)
    assert sink.counts.opened == 1 and sink.counts.dropped == 2
    assert sorted(e.kind for e in evidence) == ["crop", "frame", "source"]
    assert all(e.path.startswith("2026/05/06/") for e in evidence)  # dated when seen, not when scanned
    for item in evidence:
        data = EvidenceStore(tmp_path / "evidence").resolve(item.path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == item.sha256


def test_scanning_the_same_source_again_adds_nothing(tmp_path: Path) -> None:
    with created_engine("sqlite", tmp_path) as engine:
        scan(engine, tmp_path / "evidence", frames(400.0))
        again = scan(engine, tmp_path / "evidence", frames(400.0))
        with session_factory(engine)() as session:
            candidates = list(session.scalars(select(Candidate)))
    assert len(candidates) == 1 and candidates[0].sightings_count == 1
    assert again.counts.duplicates == again.counts.sightings == 3


def test_a_truncated_source_keeps_what_it_showed(tmp_path: Path) -> None:
    with created_engine("sqlite", tmp_path) as engine:
        with pytest.raises(SourceError, match=r"street\.mp4"):
            scan(engine, tmp_path / "evidence", frames(400.0, fail_at=280.0))
        with session_factory(engine)() as session:
            classes = [c.class_name for c in session.scalars(select(Candidate))]
    assert classes == ["vendor_stall"]  # 50 s → 279.5 s is past the 180 s dwell: recorded before the error


class FlickeringDetector(ScheduledDetector):
    """The schedule, plus an ad board it sees on a bare wall for one second in every twenty, for three minutes."""

    def detect_frames(self, frames: Sequence[Frame]) -> list[Detections]:
        out = []
        for frame, found in zip(frames, super().detect_frames(frames), strict=True):
            t = frame.timestamp
            if 40.0 <= t <= 240.0 and t % 20.0 < 1.0:
                flicker = Detections(
                    xyxy=np.array([[200, 10, 260, 60]], np.float32),
                    confidence=np.array([0.8], np.float32),
                    class_id=np.array([NAMES.index("ad_board")], np.int64),
                )
                found = Detections.merge([found, flicker])
            out.append(found)
        return out


def test_a_detector_flicker_seen_now_and_then_for_minutes_is_not_a_standing_object(tmp_path: Path) -> None:
    detector = FlickeringDetector(STREET)
    with created_engine("sqlite", tmp_path) as engine:
        sink = fixed_camera_recorder(
            session_factory(engine), "street.mp4", START, camera_key="cam-1", camera_name="cam 1", at=CAMERA
        )
        SourcePipeline(detector, PipelineSettings.for_camera("fixed", NAMES, 2.0)).run(frames(400.0), sink.handle)
        with session_factory(engine)() as session:
            candidates = list(session.scalars(select(Candidate)))
            [flicker] = session.scalars(select(Sighting).where(Sighting.class_name == "ad_board"))
    assert sorted(c.class_name for c in candidates) == ["signboard", "vendor_stall"]  # no reference given here
    assert flicker.status == "dropped" and flicker.dwell_s >= 180  # long enough for the dwell rule alone
    assert flicker.drop_reason == (
        f"detected in {flicker.frames_seen} of the 401 frames tracked over its 200 s on a fixed camera "
        f"({flicker.frames_seen / 401:.0%}); ad_board needs 50%"
    )
