"""A live stream through the whole pipeline: each frame pushed through detect → track → sightings → record.

A scan pulls a file's frames and records each track when it ends. A camera stream never ends and a stall may
stay for hours, so `PipelineHandler` (a `service.streams.FrameHandler`) differs in three ways:

- It keeps its own stream clock: the frames it gets have gaps (the motion gate skips unchanged frames, stale
  frames are dropped) and a reconnected source starts its timestamps at 0 again. Its tracks are kept at least
  twice the gate's forced-pass interval, so an object in an unchanged view stays one track.
- Every ``report_every_s`` of stream time it looks at the tracks still open and records those the rules already
  accept (a stall past its dwell), with their evidence, while the object is still there. Until then nothing is
  written for an open track: a dropped row would use up its key. Once recorded, the track's sighting and
  candidate have their ``last_seen`` moved on at each look and when the track ends; the ended track is never
  recorded a second time.
- On fixed and PTZ cameras the pieces of one static object whose track broke are one sighting
  (`service.pipeline.source.StationaryHold`): reported while in view under its first piece's track id, extended as
  later pieces join it.
- Its sightings are stored under a source of their own per run, ``<camera key>@<start time>``, so track ids
  (which start at 1 again in every run) never collide with an earlier run's.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from service.pipeline.record import SightingRecorder
from service.pipeline.source import DEFAULT_CONFIDENCE, FrameDetector, PipelineSettings, StationaryHold
from service.violations.observation import Observation
from service.violations.queries import extend_sighting
from service.violations.recorder import Recorder
from service.violations.records import ATTACHED, DROPPED, OPENED, EvidenceRecord, Recorded
from service.violations.verdicts import VerdictLike
from vision.frame import Frame
from vision.sighting import Sighting
from vision.track import SightingBuilder, SightingSettings, Tracker

log = logging.getLogger(__name__)

PENDING = "pending"  # an open track the rules do not accept yet: nothing written
MIN_STEP_S = 1e-3  # the tracker needs strictly increasing times


@dataclass(frozen=True)
class StreamPipelineSettings:
    """How a stream's tracks are reported.

    Attributes:
        report_every_s: Stream seconds between looks at the tracks still open.
        gap_s: The longest a stream may go without a frame while its view is unchanged: the motion gate's
            forced-pass interval for gated streams, 0 otherwise. Tracks are kept at least ``2 * gap_s``.
    """

    report_every_s: float = 30.0
    gap_s: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.report_every_s) and self.report_every_s > 0):
            raise ValueError(f"report_every_s must be a positive number, got {self.report_every_s!r}")
        if not (math.isfinite(self.gap_s) and self.gap_s >= 0):
            raise ValueError(f"gap_s must be a non-negative number, got {self.gap_s!r}")


def stream_tracking(
    kind: str,
    class_names: Sequence[str],
    fps: float | None,
    gap_s: float,
    confidence: float = DEFAULT_CONFIDENCE,
) -> PipelineSettings:
    """Tracking settings of a stream: `PipelineSettings.for_camera`, with tracks kept through the gate's gaps.

    Args:
        kind: Camera kind.
        class_names: The detector's class names.
        fps: Frames per second handed on (None: every frame, taken as 25).
        gap_s: See `StreamPipelineSettings.gap_s`.
        confidence: The detector's operating confidence (tracks start at it).
    """
    settings = PipelineSettings.for_camera(kind, class_names, fps or 25.0, confidence)
    keep_s = 2.0 * gap_s
    if keep_s <= settings.lost_after_s:
        return settings
    return replace(
        settings,
        tracker=replace(settings.tracker, lost_track_buffer_s=keep_s),
        lost_after_s=keep_s,
    )


@dataclass
class StreamPipelineStats:
    """Counts over one stream's handler (read from other threads for metrics; plain integers).

    Attributes:
        frames: Frames detected.
        detections: Detections in them.
        open_tracks: Tracks open now.
        ended: Tracks ended (object gone, or the stream closed).
        reported_open: Tracks recorded while still in view.
        opened: Sightings that opened a candidate.
        attached: Sightings attached to an existing candidate.
        dropped: Sightings stored as dropped (rules, reference, no location).
        extended: Updates of a recorded sighting's ``last_seen``.
        errors: Sightings that could not be recorded or extended (database errors; logged).
    """

    frames: int = 0
    detections: int = 0
    open_tracks: int = 0
    ended: int = 0
    reported_open: int = 0
    opened: int = 0
    attached: int = 0
    dropped: int = 0
    extended: int = 0
    errors: int = 0

    def count(self, outcome: Recorded) -> None:
        """Counts one recording by what it did."""
        if outcome.action == OPENED:
            self.opened += 1
        elif outcome.action == ATTACHED:
            self.attached += 1
        elif outcome.action == DROPPED:
            self.dropped += 1


class StreamClock:
    """One increasing time over a stream's frames, across reconnections.

    Frames of one source have increasing timestamps; a new source (after the worker reopened the stream) starts
    again near 0. The clock then continues from its last time plus the wall time that passed between the two
    frames' arrivals, so a camera that was away for a minute is a minute-long gap to the tracker.
    """

    def __init__(self) -> None:
        self.last: float | None = None
        self._offset = 0.0
        self._last_raw: float | None = None
        self._last_wall: datetime | None = None

    def time_of(self, frame: Frame) -> float:
        """The frame's time on this stream's clock (seconds, strictly increasing)."""
        raw = frame.timestamp
        if self.last is not None and self._last_raw is not None and raw <= self._last_raw:
            gap = 0.0
            if frame.wall_time is not None and self._last_wall is not None:
                gap = (frame.wall_time - self._last_wall).total_seconds()
            self._offset = self.last + max(gap, MIN_STEP_S) - raw
        time = raw + self._offset
        if self.last is not None and time <= self.last:
            time = self.last + MIN_STEP_S
        self.last, self._last_raw, self._last_wall = time, raw, frame.wall_time
        return time


class AcceptedOnly(Recorder):
    """Records what the rules accept and can be placed; answers `PENDING` for the rest and writes nothing.

    Used for open tracks: a stall seen for one minute of the three it needs must not be stored as dropped, or its
    key would be used up when it has stayed long enough.
    """

    def __init__(self, recorder: Recorder) -> None:
        super().__init__(recorder.settings)
        self.recorder = recorder

    def record(
        self,
        session: Session,
        observation: Observation,
        verdict: VerdictLike,
        evidence: Sequence[EvidenceRecord] = (),
    ) -> Recorded:
        """The wrapped recorder's ``record`` when accepted and located, else ``Recorded(0, PENDING)``."""
        if not verdict.accepted or observation.location is None:
            return Recorded(sighting_id=0, action=PENDING)
        return self.recorder.record(session, observation, verdict, evidence)


class PipelineHandler:
    """One stream's frames through detection, tracking and recording; see the module docstring.

    Called from the stream's worker thread only. A sighting that cannot be recorded (the database is down) is
    logged and counted, the others are still recorded, and the frame's ``handle`` then raises so the stream's
    health shows the error.

    Example::

        handler = PipelineHandler(detector=detector, tracking=stream_tracking("fixed", names, 2.0, 5.0), sink=sink)
        for frame in frames:
            handler.handle(frame)
        handler.close()  # records the tracks still open
    """

    def __init__(
        self,
        *,
        detector: FrameDetector,
        tracking: PipelineSettings,
        sink: SightingRecorder,
        settings: StreamPipelineSettings | None = None,
        on_close: Callable[[PipelineHandler], None] | None = None,
    ) -> None:
        """Prepares the handler.

        Args:
            detector: Finds objects in frames (shared by every stream: it must be thread-safe).
            tracking: Tracker and sighting settings (see `stream_tracking`).
            sink: Records ended sightings; its context names this run's source.
            settings: Reporting interval and gate gaps.
            on_close: Called once after `close` (the factory forgets the handler).
        """
        self.detector = detector
        self.tracking = tracking
        self.sink = sink
        self.settings = settings or StreamPipelineSettings()
        self.stats = StreamPipelineStats()
        self._on_close = on_close
        self._tracker = Tracker(tracking.tracker)
        self._builder = SightingBuilder(SightingSettings(tracking.class_names, lost_after_s=tracking.lost_after_s))
        # Fixed and PTZ cameras: the pieces of one static object whose track broke are recorded as one sighting.
        self._hold = StationaryHold(tracking.stationary)
        self._early = SightingRecorder(
            sessions=sink.sessions,
            rules=sink.rules,
            recorder=AcceptedOnly(sink.recorder),
            evidence=sink.evidence,
            locator=sink.locator,
            context=sink.context,
            baseline=sink.baseline,
        )
        self._clock = StreamClock()
        self._next_report: float | None = None
        self._reported: dict[int, float] = {}  # track id -> the last_time written
        self._failures: list[Exception] = []
        self._closed = False

    @property
    def source(self) -> str:
        """The source this run's sightings are stored under."""
        return self.sink.context.source_id

    def handle(self, frame: Frame) -> None:
        """Detects, tracks and records what ended; every ``report_every_s`` records the open tracks the rules accept.

        Raises:
            RuntimeError: Some sighting could not be recorded (the others were); the first error is the cause.
        """
        time = self._clock.time_of(frame)
        frame = replace(frame, timestamp=time)
        detections = self.detector.detect_frames([frame])[0]
        self.stats.frames += 1
        self.stats.detections += len(detections)
        tracked = self._tracker.update(detections, frame)
        ended = self._builder.update(frame, tracked, self._tracker.first_detections)
        for sighting in self._hold.release(ended, time, self._builder):
            self._guarded(self._ended, sighting)
        if self._next_report is None:
            self._next_report = time + self.settings.report_every_s
        elif time >= self._next_report:
            self._next_report = time + self.settings.report_every_s
            for sighting in self._hold.open_sightings(self._builder):
                self._guarded(self._report_open, sighting)
        self.stats.open_tracks = self._builder.open_tracks
        self._raise_failures()

    def close(self) -> None:
        """Records the tracks still open as ended (the stream stopped); safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            for sighting in self._hold.flush(self._builder.flush()):
                self._guarded(self._ended, sighting)
            self.stats.open_tracks = 0
            self._raise_failures()
        finally:
            if self._on_close is not None:
                self._on_close(self)

    def _ended(self, sighting: Sighting) -> None:
        self.stats.ended += 1
        if self._reported.pop(sighting.track_id, None) is not None:
            # Recorded while in view: the same key would be a duplicate; only its span grows.
            self._extend(sighting)
            return
        self.stats.count(self.sink.handle(sighting))

    def _report_open(self, sighting: Sighting) -> None:
        written = self._reported.get(sighting.track_id)
        if written is not None:
            if sighting.last_time > written:
                self._extend(sighting)
                self._reported[sighting.track_id] = sighting.last_time
            return
        outcome = self._early.handle(sighting)
        if outcome.action == PENDING:
            return
        self._reported[sighting.track_id] = sighting.last_time
        self.stats.reported_open += 1
        self.stats.count(outcome)
        log.info(
            "stream %s: track %d (%s) recorded while in view: %s",
            self.source,
            sighting.track_id,
            sighting.class_name,
            outcome.action,
        )

    def _extend(self, sighting: Sighting) -> None:
        context = self.sink.context
        with self.sink.sessions() as session:
            extend_sighting(
                session,
                source=context.source_id,
                track_key=str(sighting.track_id),  # SightingRecorder's key for the track
                last_seen=context.wall_time(sighting, sighting.last_time),
                frames_seen=sighting.frames_seen,
                score=sighting.score,
            )
            session.commit()
        self.stats.extended += 1

    def _guarded(self, step: Callable[[Sighting], None], sighting: Sighting) -> None:
        try:
            step(sighting)
        except Exception as error:
            log.exception("stream %s: track %d not recorded", self.source, sighting.track_id)
            self.stats.errors += 1
            self._failures.append(error)

    def _raise_failures(self) -> None:
        if not self._failures:
            return
        failures, self._failures = self._failures, []
        first = failures[0]
        raise RuntimeError(f"{len(failures)} sighting(s) not recorded ({type(first).__name__}: {first})") from first
