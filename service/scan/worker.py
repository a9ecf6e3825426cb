"""Scanning one source in a worker: the per-process services, the detector, and the source's state in the job.

One `ScanWorker` per process (the main process, a pool worker or a Ray worker) opens its own database engine and
loads the detector once, then scans sources one at a time. A source is marked ``done`` only after every one of its
sightings is committed; a source that was cut off is re-run from its start, and the tracks an earlier run recorded
are recognised by their ``(source, track key)`` and skipped (track ids are the same for the same frames).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from service.db import make_engine
from service.evidence import EvidenceStore
from service.pipeline.baseline import Baseline
from service.pipeline.locate import Locator
from service.pipeline.record import SightingRecorder, SourceContext
from service.pipeline.source import FrameDetector, ModelDetector, PipelineSettings
from service.pipeline.wiring import (
    RecordingServices,
    detector_confidence,
    detector_names,
    reference_baseline,
    run_source,
)
from service.rules import RuleBook
from service.scan import jobs
from service.scan.frames import FeedCounts, GatedDetector, feed_frames, photo_sightings, read_ahead
from service.scan.hooks import PauseHook
from service.scan.locate import plan_locator
from service.scan.options import ScanOptions
from service.scan.plan import SourcePlan
from service.scan.queries import recorded_tracks, source_totals
from service.violations.records import ATTACHED, OPENED, Recorded
from vision.errors import VisionError
from vision.frame import Frame
from vision.gate import GateSettings, MotionGate
from vision.sighting import Sighting
from vision.sources import load_image, open_source

ScanProgress = Callable[[int, float, int], object]  # (frames read, video seconds, hits) since the previous call
# Errors that fail one source (the scan goes on); anything else (the database gone) stops the scan.
SOURCE_ERRORS = (VisionError, ValueError, OSError)


@dataclass(frozen=True)
class WorkerConfig:
    """Everything a worker process needs to scan sources of one job (plain values: it is pickled to workers).

    Attributes:
        database_url: The database every worker writes to (PostgreSQL when workers run on other machines).
        job_id: The scan job the sources belong to.
        options: The scan's options.
        batch: Frames per inference batch.
        threads: Inference threads per worker; ``None`` lets the runtime choose.
        read_ahead: Frames decoded ahead of the detector in a second thread; 0 decodes in line.
        evidence_root: The evidence folder (shared storage when workers run on other machines).
    """

    database_url: str
    job_id: int
    options: ScanOptions
    batch: int = 4
    threads: int | None = None
    read_ahead: int = 8
    evidence_root: str | None = None


@dataclass(frozen=True)
class SourceOutcome:
    """What scanning one source did.

    Attributes:
        path: The source.
        state: ``done`` or ``failed``.
        frames: Frames decoded and sampled.
        detected: Frames handed to the detector (after the gate).
        video_seconds: Seconds of video covered.
        sightings: Sightings of the source in the database (this run's and an interrupted run's).
        hits: Of those, the ones that became or joined a candidate.
        skipped: Sightings an interrupted run had recorded already.
        error: Why it failed.
        seconds: Wall time spent on it.
    """

    path: str
    state: str
    frames: int = 0
    detected: int = 0
    video_seconds: float = 0.0
    sightings: int = 0
    hits: int = 0
    skipped: int = 0
    error: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class _Source:
    """One source being scanned: its plan and what was built for it."""

    plan: SourcePlan
    detector: FrameDetector
    names: tuple[str, ...]
    context: SourceContext
    locator: Locator | None
    known: set[str]
    counts: FeedCounts
    recorded: Callable[[Sighting, Recorded], None]


class ScanWorker:
    """Scans sources of one job in this process."""

    def __init__(self, config: WorkerConfig, detector: FrameDetector | None = None) -> None:
        """Opens the database engine and reads the rules; the model loads on first use.

        Args:
            config: The job, database and options.
            detector: Use this detector instead of the one the options name (tests, embedding).

        Raises:
            RulesError: The rules folder is unusable.
        """
        self.config = config
        options = config.options
        self.engine = make_engine(config.database_url)
        rules = RuleBook.load(options.rules) if options.rules else RuleBook()
        evidence = EvidenceStore(Path(config.evidence_root)) if config.evidence_root else EvidenceStore()
        self.services = RecordingServices.open(self.engine, rules=rules, evidence=evidence)
        self.hook = PauseHook.from_env()
        self._given = detector
        self._model: ModelDetector | None = None

    def close(self) -> None:
        """Releases the database connections."""
        self.engine.dispose()

    def scan(self, plan: SourcePlan, progress: ScanProgress | None = None) -> SourceOutcome:
        """Scans one source and records its state in the job; a source error marks it ``failed`` and returns.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: The database failed (the source stays ``running`` and is re-run when
                the scan is resumed).
        """
        started = time.perf_counter()
        job_id = self.config.job_id
        with self.services.sessions() as session:
            jobs.start_source(session, job_id=job_id, path=plan.path)
            known = recorded_tracks(session, source=plan.path)
            session.commit()
        counts = FeedCounts()
        error = plan.problem
        if error is None:
            try:
                self._scan(plan, known, counts, progress)
            except SOURCE_ERRORS as failure:
                error = str(failure) or type(failure).__name__
        video_seconds = plan.duration_s if error is None and plan.duration_s else counts.video_seconds
        with self.services.sessions() as session:
            sightings, hits = source_totals(session, source=plan.path)
            jobs.finish_source(
                session,
                job_id=job_id,
                path=plan.path,
                frames=counts.read,
                video_seconds=video_seconds,
                hits=hits,
                error=error,
            )
            session.commit()
        if progress is not None and video_seconds > counts.video_seconds:
            progress(0, video_seconds - counts.video_seconds, 0)
        self.hook.source_finished()
        return SourceOutcome(
            path=plan.path,
            state=jobs.DONE if error is None else jobs.FAILED,
            frames=counts.read,
            detected=counts.detected,
            video_seconds=video_seconds,
            sightings=sightings,
            hits=hits,
            skipped=len(known),
            error=error,
            seconds=time.perf_counter() - started,
        )

    def _scan(self, plan: SourcePlan, known: set[str], counts: FeedCounts, progress: ScanProgress | None) -> None:
        detector = self._detector(plan)

        def recorded(_sighting: Sighting, outcome: Recorded) -> None:
            if progress is not None and outcome.action in (OPENED, ATTACHED):
                progress(0, 0.0, 1)
            self.hook.sighting_recorded()

        def frames_read(frames: int, seconds: float) -> None:
            if progress is not None:
                progress(frames, seconds, 0)

        source = _Source(
            plan=plan,
            detector=detector,
            names=detector_names(detector),
            context=SourceContext(
                source_id=plan.path,
                video_start=plan.start,
                camera_key=plan.camera_key,
                camera_kind=plan.kind,
                camera_name=plan.camera.name if plan.camera is not None else None,
            ),
            locator=plan_locator(plan, gps_offset_s=self.config.options.gps_offset_s),
            known=known,
            counts=counts,
            recorded=recorded,
        )
        if plan.media == "image":
            self._scan_photo(source)
        else:
            self._scan_video(source, frames_read)

    def _scan_video(self, source: _Source, frames_read: Callable[[int, float], None]) -> None:
        plan, counts = source.plan, source.counts
        gated = GatedDetector(source.detector, MotionGate(_gate_settings(plan))) if plan.gate else None
        settings = PipelineSettings.for_camera(
            plan.kind, source.names, plan.tracker_fps, detector_confidence(source.detector)
        )
        try:
            with open_source(plan.path, sampling=plan.sampling) as frames:
                run_source(
                    read_ahead(feed_frames(frames, counts, progress=frames_read), self.config.read_ahead),
                    detector=gated or source.detector,
                    settings=replace(settings, batch_size=self.config.batch),
                    services=self.services,
                    locator=source.locator,
                    context=source.context,
                    baseline=self._baseline(plan, source.detector, source.names),
                    already_recorded=source.known,
                    on_recorded=source.recorded,
                )
        finally:
            counts.detected = gated.detected if gated is not None else counts.read

    def _scan_photo(self, source: _Source) -> None:
        with open_source(source.plan.path, default_tz=self.services.rules.settings.tz) as photos:
            frames = list(photos)
        sink = SightingRecorder(
            sessions=self.services.sessions,
            rules=self.services.rules,
            recorder=self.services.recorder,
            evidence=self.services.evidence,
            locator=source.locator,
            context=source.context,
        )
        for frame in frames:
            source.counts.read += 1
            source.counts.detected += 1
            detections = source.detector.detect_frames([frame])[0]
            # A photo has no track to continue: only detections at the operating confidence count.
            detections = detections[detections.confidence >= detector_confidence(source.detector)]
            for sighting in photo_sightings(frame, detections, source.names):
                if str(sighting.track_id) not in source.known:
                    source.recorded(sighting, sink.handle(sighting))

    def _detector(self, plan: SourcePlan) -> FrameDetector:
        options = self.config.options
        if self._given is not None:
            return self._given
        if options.detector == "truth":
            return _truth_detector(Path(plan.path))
        return self.model()

    def model(self) -> ModelDetector:
        """The options' model, loaded on first use (once per worker).

        Raises:
            ModelError: The model cannot be loaded.
        """
        if self._model is None:
            from vision.detect import load_detector

            options = self.config.options
            model = load_detector(
                options.model or _default_model(),
                runtime=options.runtime,
                threads=self.config.threads,
                conf=options.conf,
                rect=options.rect,
            )
            self._model = ModelDetector(model, options.conf)
        return self._model

    def _baseline(self, plan: SourcePlan, detector: FrameDetector, names: tuple[str, ...]) -> Baseline | None:
        """Objects the fixed camera's reference already shows (only with a model: ground truth has no reference)."""
        camera = plan.camera
        if camera is None or camera.reference_path is None or plan.kind not in ("fixed", "ptz"):
            return None
        if self.config.options.detector != "model":
            return None
        pixels, _ = load_image(Path(camera.reference_path))
        reference = Frame(pixels, camera.reference_path, 0, 0.0, wall_time=camera.reference_taken_at)
        return reference_baseline(detector, reference, names)


def _gate_settings(plan: SourcePlan) -> GateSettings:
    values = dict(plan.camera.settings.get("gate") or {}) if plan.camera is not None else {}
    if "ignore_boxes" in values:
        values["ignore_boxes"] = tuple(tuple(box) for box in values["ignore_boxes"])
    try:
        return GateSettings(**values)
    except TypeError as error:
        raise ValueError(f"camera {plan.camera_key}: settings.gate: {error}") from error


def _truth_detector(video: Path) -> FrameDetector:
    """The ground truth written next to a synthetic clip: ``<stem>_frames.jsonl``, else ``frames.jsonl``."""
    from vision.synth.truth import TruthDetector

    for candidate in (video.with_name(f"{video.stem}_frames.jsonl"), video.with_name("frames.jsonl")):
        if candidate.is_file():
            return TruthDetector.load(candidate)
    raise VisionError(f"{video}: no ground truth next to it ({video.stem}_frames.jsonl or frames.jsonl)")


def _default_model() -> Path:
    from service.defaults import default_model_path

    return default_model_path()
