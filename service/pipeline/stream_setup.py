"""Building a `PipelineHandler` for each watched stream: the camera's facts from the database, one shared detector.

``xiuhua watch`` and ``xiuhua serve --watch`` both do::

    services = RecordingServices.open(engine, rules=rules, evidence=EvidenceStore(data / "evidence"))
    handlers = pipeline_handler_factory(
        services=services,
        detector=shared_model_detector(load_detector(model), conf),
        references=ReferenceStore(data / "references"),
        gap_s=manager_settings.gate.force_every_s,
    )
    manager = StreamManager(manager_settings, handlers)
    syncing = PeriodicSync(manager, services.sessions, every_s=30.0).start()  # the cameras table, kept in step
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from service.cameras.queries import find_camera
from service.db.models.cameras import Camera
from service.evidence import EvidenceError, EvidenceStore
from service.pipeline.baseline import Baseline
from service.pipeline.locate import CalibratedLocator, CameraPositionLocator, Locator
from service.pipeline.record import SightingRecorder, SourceContext
from service.pipeline.source import FrameDetector, ModelDetector
from service.pipeline.stream import PipelineHandler, StreamPipelineSettings, StreamPipelineStats, stream_tracking
from service.pipeline.wiring import RecordingServices, detector_confidence, detector_names, reference_baseline
from service.references import ReferenceStore, current_reference
from service.rules import RuleBook
from service.streams import FrameHandler, StreamManager, StreamManagerSettings, StreamSpec
from service.streams.handlers import SharedDetector
from vision.detect import Detector
from vision.errors import VisionError
from vision.frame import Frame, GeoPoint
from vision.geo import CalibrationError, GroundCalibration
from vision.sources.images import load_image

log = logging.getLogger(__name__)


def shared_model_detector(model: Detector, conf: float | None = None) -> ModelDetector:
    """A loaded model as one `FrameDetector` for every stream, entered by one stream at a time."""
    return ModelDetector(SharedDetector(model), conf)


def run_source_id(key: str, started: datetime) -> str:
    """The source a stream run's sightings are stored under: ``cam-012@2026-05-06T02:00:00.123Z``."""
    return f"{key}@{started.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}Z"


def camera_locator(camera: Camera | None) -> Locator | None:
    """Where a camera's sightings are: its ground calibration, else its position, else nowhere (logged)."""
    if camera is None:
        return None
    if camera.calibration:
        try:
            return CalibratedLocator(GroundCalibration.from_dict(camera.calibration))
        except CalibrationError as error:
            log.warning("camera %s: calibration unusable (%s); using its position", camera.key, error)
    if camera.lat is not None and camera.lon is not None:
        return CameraPositionLocator(GeoPoint(camera.lat, camera.lon))
    return None


@dataclass(frozen=True)
class _CameraFacts:
    name: str
    locator: Locator | None
    reference_path: Path | None
    reference_taken_at: datetime | None


class PipelineHandlers:
    """A `service.streams.HandlerFactory` whose handlers run the whole pipeline; it knows the live ones.

    Each handler gets the camera's locator (calibration or position), the baseline of its current reference image
    (fixed and PTZ cameras), and a source of its own (`run_source_id`). A stream whose camera is not registered,
    or has no position, is still watched, but its sightings cannot become candidates (a warning says so).
    """

    def __init__(
        self,
        *,
        services: RecordingServices,
        detector: FrameDetector,
        references: ReferenceStore | None = None,
        settings: StreamPipelineSettings | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.services = services
        self.detector = detector
        self.class_names = detector_names(detector)
        self.references = references
        self.settings = settings or StreamPipelineSettings()
        self._clock = clock
        self._lock = threading.Lock()
        self._handlers: dict[str, PipelineHandler] = {}
        self._last_source: dict[str, str] = {}

    def __call__(self, spec: StreamSpec) -> FrameHandler:
        """Builds the handler of one stream (reads the camera and its reference; runs the detector on it)."""
        facts = self._camera_facts(spec)
        if facts.locator is None:
            log.warning("stream %s: no registered camera position or calibration; no candidates", spec.key)
        started = self._clock()
        context = SourceContext(
            self._unique_source(spec.key, started),
            started,
            camera_key=spec.key,
            camera_kind=spec.kind,
            camera_name=facts.name,
        )
        sink = SightingRecorder(
            sessions=self.services.sessions,
            rules=self.services.rules,
            recorder=self.services.recorder,
            evidence=self.services.evidence,
            locator=facts.locator,
            context=context,
            baseline=self._baseline(spec, facts),
        )
        gap_s = self.settings.gap_s if spec.gate_enabled else 0.0
        handler = PipelineHandler(
            detector=self.detector,
            tracking=stream_tracking(spec.kind, self.class_names, spec.fps, gap_s, detector_confidence(self.detector)),
            sink=sink,
            settings=self.settings,
            on_close=lambda closed: self._forget(spec.key, closed),
        )
        with self._lock:
            self._handlers[spec.key] = handler
        return handler

    def stats(self) -> dict[str, StreamPipelineStats]:
        """The live handlers' counts, by stream key."""
        with self._lock:
            return {key: self._handlers[key].stats for key in sorted(self._handlers)}

    def sources(self) -> dict[str, str]:
        """The source each live stream's sightings are stored under, by stream key."""
        with self._lock:
            return {key: handler.source for key, handler in self._handlers.items()}

    def _forget(self, key: str, handler: PipelineHandler) -> None:
        with self._lock:
            if self._handlers.get(key) is handler:  # a restarted stream's new handler stays
                del self._handlers[key]

    def _unique_source(self, key: str, started: datetime) -> str:
        source = run_source_id(key, started)
        with self._lock:
            if self._last_source.get(key, "") >= source:  # restarted within the same millisecond
                source = f"{self._last_source[key]}+"
            self._last_source[key] = source
        return source

    def _camera_facts(self, spec: StreamSpec) -> _CameraFacts:
        with self.services.sessions() as session:
            camera = find_camera(session, key=spec.key)
            reference = None
            if camera is not None and spec.kind in ("fixed", "ptz") and self.references is not None:
                reference = current_reference(session, camera_key=spec.key)
            path = taken_at = None
            if reference is not None and self.references is not None:
                try:
                    path, taken_at = self.references.resolve(reference.image_path), reference.taken_at
                except EvidenceError as error:
                    log.warning("stream %s: reference image unusable (%s); no baseline", spec.key, error)
            return _CameraFacts(
                name=(camera.name if camera is not None else "") or spec.key,
                locator=camera_locator(camera),
                reference_path=path,
                reference_taken_at=taken_at,
            )

    def _baseline(self, spec: StreamSpec, facts: _CameraFacts) -> Baseline | None:
        if facts.reference_path is None or facts.reference_taken_at is None:
            return None
        try:
            pixels, _ = load_image(facts.reference_path)
        except VisionError as error:
            log.warning("stream %s: reference image unreadable (%s); no baseline", spec.key, error)
            return None
        reference = Frame(pixels, str(facts.reference_path), 0, 0.0, wall_time=facts.reference_taken_at)
        return reference_baseline(self.detector, reference, self.class_names)


def pipeline_handler_factory(
    *,
    services: RecordingServices,
    detector: FrameDetector,
    references: ReferenceStore | None = None,
    report_every_s: float = 30.0,
    gap_s: float = 5.0,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> PipelineHandlers:
    """The handler factory of a `StreamManager` whose streams go through the whole pipeline into the queue.

    Args:
        services: Database sessions, rules, the de-duplicating recorder and the evidence store.
        detector: One detector for every stream, safe to call from several threads (`shared_model_detector`).
        references: Where reference images are; ``None`` uses no baselines.
        report_every_s: Stream seconds between looks at open tracks (see `StreamPipelineSettings`).
        gap_s: The motion gate's forced-pass interval (``StreamManagerSettings.gate.force_every_s``).
        clock: Current UTC time (each run's start).
    """
    return PipelineHandlers(
        services=services,
        detector=detector,
        references=references,
        settings=StreamPipelineSettings(report_every_s=report_every_s, gap_s=gap_s),
        clock=clock,
    )


def pipeline_stream_manager(
    engine: Engine,
    *,
    model: Detector,
    data: Path,
    conf: float | None = None,
    rules: RuleBook | None = None,
    settings: StreamManagerSettings | None = None,
    report_every_s: float = 30.0,
) -> StreamManager:
    """A stream manager (no streams yet) whose streams go through the pipeline into ``engine``'s queue.

    Args:
        engine: The database (migrated).
        model: The detector, shared by every stream.
        data: The data folder: evidence goes to ``evidence/``, reference images are read from ``references/``.
        conf: Score threshold; ``None`` uses the model's.
        rules: Zones, permits and persistence; default rules when ``None``.
        settings: Buffering, gate and timing of the workers.
        report_every_s: Stream seconds between looks at open tracks.
    """
    settings = settings or StreamManagerSettings()
    services = RecordingServices.open(engine, rules=rules, evidence=EvidenceStore(data / "evidence"))
    handlers = pipeline_handler_factory(
        services=services,
        detector=shared_model_detector(model, conf),
        references=ReferenceStore(data / "references"),
        report_every_s=report_every_s,
        gap_s=settings.gate.force_every_s,
    )
    return StreamManager(settings, handlers)


class PipelineCollector(Collector):
    """Prometheus series of the live pipeline handlers, one sample per stream (register next to the streams')."""

    COUNTERS = (
        ("xiuhua_stream_detections", "Detections in the frames handled.", "detections"),
        ("xiuhua_stream_tracks_ended", "Tracks ended: the object left, or the stream stopped.", "ended"),
        ("xiuhua_stream_tracks_reported_open", "Tracks recorded while still in view.", "reported_open"),
        ("xiuhua_stream_candidates_opened", "Sightings that opened a candidate.", "opened"),
        ("xiuhua_stream_candidates_attached", "Sightings attached to an existing candidate.", "attached"),
        ("xiuhua_stream_sightings_dropped", "Sightings stored as dropped.", "dropped"),
        ("xiuhua_stream_record_errors", "Sightings that could not be recorded.", "errors"),
    )

    def __init__(self, handlers: PipelineHandlers) -> None:
        self.handlers = handlers

    def collect(self) -> Iterator[Metric]:
        """Open tracks as a gauge, the rest as counters."""
        stats = self.handlers.stats()
        open_tracks = GaugeMetricFamily("xiuhua_stream_open_tracks", "Tracks open now.", labels=["stream"])
        counters = [
            (CounterMetricFamily(name, text, labels=["stream"]), attribute) for name, text, attribute in self.COUNTERS
        ]
        for key, counts in stats.items():
            open_tracks.add_metric([key], float(counts.open_tracks))
            for family, attribute in counters:
                family.add_metric([key], float(getattr(counts, attribute)))
        yield open_tracks
        yield from (family for family, _ in counters)


class PeriodicSync:
    """Keeps a manager's ``db`` streams in step with the cameras table, every ``every_s`` seconds on its own thread."""

    def __init__(self, manager: StreamManager, sessions: Callable[[], Session], *, every_s: float = 30.0) -> None:
        if every_s <= 0:
            raise ValueError(f"every_s must be positive, got {every_s!r}")
        self.manager = manager
        self.sessions = sessions
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stream database sync", daemon=True)

    def start(self) -> PeriodicSync:
        """Syncs now (in the caller's thread, so errors show at start-up), then every ``every_s`` seconds."""
        self.sync()
        self._thread.start()
        return self

    def sync(self) -> None:
        """One sync; what it changed is logged."""
        with self.sessions() as session:
            result = self.manager.sync_from_db(session)
        for verb, keys in (("added", result.added), ("updated", result.updated), ("removed", result.removed)):
            for key in keys:
                log.info("database streams: %s %s", verb, key)

    def stop(self) -> None:
        """Stops the thread (waits for a sync in progress)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.sync()
            except Exception:  # a database hiccup must not end the syncing
                log.exception("database streams: sync failed")
