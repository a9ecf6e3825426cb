"""The whole stream pipeline for ``benchmarks/streams.py --pipeline``: what ``xiuhua watch`` runs, timed.

The handlers are the production ones (`service.pipeline.stream_setup.pipeline_handler_factory` over
`shared_model_detector`, as ``xiuhua watch`` builds them): detect → track → sightings → rules → de-duplicate →
candidates, written to a throw-away database (SQLite, or a fresh PostgreSQL database dropped afterwards). Each
stream is registered as a camera with a position, so its sightings can be placed and become candidates.

The real videos hold no violations, so ``--synth DIR`` (a folder written by ``xiuhua synth fixed``) adds a source
with known objects: the last stream plays that clip, each frame repeated to ~25 fps (a real camera's decode load)
with its clip index stamped in a corner. The detector still runs on every frame of every stream (the same load),
but for that stream its output is replaced by the clip's ground-truth boxes of the stamped frame (`TruthDetector`),
so the rest of the chain sees the objects a perfect detector would.

Latency is measured two ways:

- processing: a frame's arrival (decoded, ``Frame.wall_time``) to the database commits made while handling it.
  A candidate is committed while handling the frame at which the rules first accept its track: a stall's track is
  looked at every ``report_every_s`` (30 s) of stream time and recorded once its dwell is reached; a track that
  ends is recorded at the frame that ends it (``lost_after_s`` after the object was last seen).
- first seen to candidate: a candidate's ``first_seen`` (the object's first frame) to its row's ``created_at``.
  On fixed cameras this is the rules' dwell (120 to 180 s by class) plus up to one report interval plus the
  processing latency, by design.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy import Engine, event, select, text

from service.cameras.queries import create_camera
from service.db import init_db, make_engine, session_factory
from service.db.models import Camera, Candidate, Sighting
from service.evidence import EvidenceStore
from service.pipeline.source import FrameDetector
from service.pipeline.stream import PipelineHandler
from service.pipeline.stream_setup import pipeline_handler_factory, shared_model_detector
from service.pipeline.wiring import RecordingServices, detector_names
from service.rules import RuleBook
from service.streams import FrameHandler, StreamManagerSettings, StreamSpec
from vision.detect import Detector
from vision.detections import Detections
from vision.frame import Frame
from vision.synth.truth import TruthDetector

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
STAMP_BITS = 12  # clip frame index, up to 4095
STAMP_BLOCK = 16  # pixels per bit: survives JPEG at quality 80


# --- the synthetic stream: frame index stamped into the pixels -----------------------------------------------------


def stamp_index(image: np.ndarray, index: int) -> np.ndarray:
    """The image with ``index`` written as black and white blocks along its top-left edge."""
    stamped = image.copy()
    for bit in range(STAMP_BITS):
        value = 255 if (index >> bit) & 1 else 0
        stamped[:STAMP_BLOCK, bit * STAMP_BLOCK : (bit + 1) * STAMP_BLOCK] = value
    return stamped


def read_stamp(image: np.ndarray) -> int:
    """The index `stamp_index` wrote (read from the middle of each block)."""
    quarter = STAMP_BLOCK // 4
    index = 0
    for bit in range(STAMP_BITS):
        block = image[quarter : 3 * quarter, bit * STAMP_BLOCK + quarter : bit * STAMP_BLOCK + 3 * quarter]
        if float(block.mean()) > 127:
            index |= 1 << bit
    return index


def synth_clip_frames(folder: Path, height: int, quality: int) -> tuple[list[bytes], float]:
    """JPEG frames of a ``xiuhua synth fixed`` clip scaled to ``height`` lines, each stamped with its index."""
    truth = json.loads((folder / "truth.json").read_text())
    capture = cv2.VideoCapture(str(folder / truth["video"]))
    frames: list[bytes] = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        width = round(image.shape[1] * height / image.shape[0] / 2) * 2
        scaled = stamp_index(cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR), len(frames))
        frames.append(cv2.imencode(".jpg", scaled, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes())
    capture.release()
    return frames, float(truth["fps"])


@dataclass(frozen=True)
class SynthClip:
    """The synthetic stream's clip: its folder, its stream's key, the scale from clip to stream pixels."""

    folder: Path
    key: str
    scale: float


class TruthOnSynth:
    """A `FrameDetector`: the model on every frame; for the synthetic stream, the clip's truth of the stamped frame.

    The model still runs on the synthetic stream's frames so that every stream costs the same.
    """

    def __init__(self, model: FrameDetector, clip: SynthClip) -> None:
        self.model = model
        self.names = detector_names(model)
        self.key = clip.key
        self.scale = clip.scale
        self.truth = TruthDetector.load(clip.folder / "frames.jsonl")
        if tuple(self.truth.names) != self.names:
            raise ValueError(f"model classes {self.names} differ from the clip's {self.truth.names}")

    def detect_frames(self, frames: Sequence[Frame]) -> list[Detections]:
        """The model's detections, or the truth for frames of the synthetic stream."""
        found = self.model.detect_frames(frames)
        for position, frame in enumerate(frames):
            if frame.source_id == self.key:  # the worker names frames by stream key
                truth = self.truth.frames.get(read_stamp(frame.image), Detections.empty())
                found[position] = replace(truth, xyxy=(truth.xyxy * self.scale).astype(np.float32))
        return found


# --- timing each frame's commits -----------------------------------------------------------------------------------


@dataclass
class CommitLog:
    """Frame arrival to commit, for every commit made while a handler handled a frame (all streams' threads)."""

    processing: list[float] = field(default_factory=list)  # arrival to each commit
    candidate: list[float] = field(default_factory=list)  # arrival to the last commit of a frame that made a candidate
    lock: threading.Lock = field(default_factory=threading.Lock)
    local: threading.local = field(default_factory=threading.local)

    def attach(self, engine: Engine) -> None:
        """Listens to the engine's commits."""
        event.listen(engine, "commit", self._on_commit)

    def _on_commit(self, connection: object) -> None:
        commits = getattr(self.local, "commits", None)
        if commits is not None:
            commits.append(datetime.now(UTC))

    @contextmanager
    def handling(self, frame: Frame, handler: PipelineHandler) -> Iterator[None]:
        """Collects the commits made in this thread while ``handler`` handles ``frame``."""
        assert frame.wall_time is not None
        hits = handler.stats.opened + handler.stats.attached
        self.local.commits = []
        try:
            yield
        finally:
            commits, self.local.commits = self.local.commits, None
            lags = [(moment - frame.wall_time).total_seconds() for moment in commits]
            with self.lock:
                self.processing.extend(lags)
                if lags and handler.stats.opened + handler.stats.attached > hits:
                    self.candidate.append(lags[-1])


class TimedPipelineHandler:
    """A production `PipelineHandler`, with each frame's lag and commits logged."""

    def __init__(self, handler: PipelineHandler, commits: CommitLog, on_handled: Callable[[Frame], None]) -> None:
        self.handler = handler
        self.commits = commits
        self.on_handled = on_handled

    def handle(self, frame: Frame) -> None:
        """Handles the frame; logs its lag even when recording failed."""
        try:
            with self.commits.handling(frame, self.handler):
                self.handler.handle(frame)
        finally:
            self.on_handled(frame)

    def close(self) -> None:
        """Closes the handler (records the tracks still open)."""
        self.handler.close()


# --- the database and the factory ----------------------------------------------------------------------------------


@contextmanager
def throwaway_database(backend: str) -> Iterator[Engine]:
    """A migrated empty database: a SQLite file in a temporary folder, or a PostgreSQL database dropped afterwards."""
    with tempfile.TemporaryDirectory(prefix="xiuhua-streams-") as folder:
        if backend == "sqlite":
            engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
            init_db(engine)
            try:
                yield engine
            finally:
                engine.dispose()
            return
        name = f"xiuhua_bench_{uuid.uuid4().hex[:12]}"
        admin = make_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
        try:
            init_db(engine)
            yield engine
        finally:
            engine.dispose()
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def register_cameras(engine: Engine, specs: Sequence[StreamSpec], synth: SynthClip | None) -> None:
    """One camera per stream, 1 km apart (no de-duplication across streams); the synthetic one where its clip says."""
    with session_factory(engine)() as session:
        for number, spec in enumerate(specs):
            lat, lon = 27.70 + 0.01 * number, 113.40
            if synth is not None and spec.key == synth.key:
                camera = json.loads((synth.folder / "truth.json").read_text())["camera"]
                lat, lon = camera["lat"], camera["lon"]
            create_camera(session, key=spec.key, kind=spec.kind, name=spec.key, stream_url=spec.url, lat=lat, lon=lon)
        session.commit()


@dataclass
class PipelineRun:
    """The benchmark's handler factory over the production one, and what it needs for the report."""

    engine: Engine
    factory: Callable[[StreamSpec], FrameHandler]
    commits: CommitLog
    started: float = field(default_factory=time.monotonic)


def pipeline_factory(
    engine: Engine,
    model: Detector,
    *,
    evidence: Path,
    settings: StreamManagerSettings,
    synth: SynthClip | None,
    on_handled: Callable[[Frame], None],
) -> PipelineRun:
    """The production handler factory (as ``xiuhua watch`` builds it), each handler wrapped for timing."""
    services = RecordingServices.open(engine, evidence=EvidenceStore(evidence))
    detector: FrameDetector = shared_model_detector(model)
    if synth is not None:
        detector = TruthOnSynth(detector, synth)
    handlers = pipeline_handler_factory(
        services=services, detector=detector, references=None, gap_s=settings.gate.force_every_s
    )
    commits = CommitLog()
    commits.attach(engine)

    def build(spec: StreamSpec) -> FrameHandler:
        handler = handlers(spec)
        assert isinstance(handler, PipelineHandler)
        return TimedPipelineHandler(handler, commits, on_handled)

    return PipelineRun(engine, build, commits)


# --- the report ----------------------------------------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _spread(values: Sequence[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)
    pick = [ordered[min(len(ordered) - 1, int(q * len(ordered)))] for q in (0.5, 0.95)]
    return f"n={len(values)} p50 {pick[0]:.3f} s, p95 {pick[1]:.3f} s, max {ordered[-1]:.3f} s"


def pipeline_report(run: PipelineRun, kinds: dict[str, str]) -> None:
    """Prints sightings and candidates written by stream, and the latencies."""
    book = RuleBook()
    with session_factory(run.engine)() as session:
        cameras = {camera.id: camera.key for camera in session.scalars(select(Camera))}
        sightings = list(session.scalars(select(Sighting)))
        candidates = list(session.scalars(select(Candidate)))
    print(f"\npipeline: {len(sightings)} sightings stored, {len(candidates)} candidates")
    for key in sorted(kinds):
        mine = [s.status for s in sightings if cameras.get(s.camera_id or -1) == key]
        opened = sum(1 for c in candidates if cameras.get(c.camera_id or -1) == key)
        print(
            f"  {key}: sightings {len(mine)} ({', '.join(f'{mine.count(v)} {v}' for v in sorted(set(mine)))}), "
            f"candidates {opened}"
        )
    waits: dict[tuple[str, float], list[float]] = {}
    for candidate in candidates:
        key = cameras.get(candidate.camera_id or -1, "?")
        dwell = book.settings.persistence_of(candidate.class_name).dwell_seconds(kinds.get(key, "fixed"))
        waited = (_utc(candidate.created_at) - _utc(candidate.first_seen)).total_seconds()
        waits.setdefault((key, dwell), []).append(waited)
    for (key, dwell), values in sorted(waits.items()):
        print(
            f"  {key}, classes with rule dwell {dwell:g} s: {len(values)} candidates, object first seen to candidate "
            f"committed: min {min(values):.1f} s, median {statistics.median(values):.1f} s, max {max(values):.1f} s"
        )
    print(f"processing latency, frame arrival to each commit made handling it: {_spread(run.commits.processing)}")
    print(f"  of frames that opened or joined a candidate: {_spread(run.commits.candidate)}")


@contextmanager
def pipeline_mode(
    model: Detector,
    specs: Sequence[StreamSpec],
    *,
    backend: str,
    settings: StreamManagerSettings,
    synth_folder: Path | None,
    height: int,
    on_handled: Callable[[Frame], None],
) -> Iterator[PipelineRun]:
    """A throw-away database with the streams' cameras, and the timed production handler factory over it.

    With ``synth_folder``, the last stream is the synthetic clip's (as the publisher serves it).
    """
    synth = None
    if synth_folder is not None:
        capture = cv2.VideoCapture(str(synth_folder / json.loads((synth_folder / "truth.json").read_text())["video"]))
        clip_height = capture.get(cv2.CAP_PROP_FRAME_HEIGHT)
        capture.release()
        synth = SynthClip(synth_folder, specs[-1].key, height / clip_height)
    with throwaway_database(backend) as engine, tempfile.TemporaryDirectory(prefix="xiuhua-evidence-") as evidence:
        register_cameras(engine, specs, synth)
        yield pipeline_factory(
            engine, model, evidence=Path(evidence), settings=settings, synth=synth, on_handled=on_handled
        )
