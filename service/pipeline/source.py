"""The vision half of the pipeline over one source: frames → detections → tracks → sightings.

Settings differ by camera kind: a patrol camera sweeps past static objects (motion-compensated tracking, short
memory), a fixed camera watches one place for minutes (a stall hidden by a passing bus for twenty seconds is still
the same stall, so tracks are kept much longer, and the sightings of one static object whose track broke anyway are
merged back into one: `vision.track.StationaryMerger`).

Two confidences, as ByteTrack is meant to be fed: a track starts only from a detection at the model's *operating*
confidence (the card's ``default_conf`` or ``--conf``), but the model is asked for detections down to
``ModelDetector.low_ratio`` (0.4) of it, and those only continue tracks already started (ByteTrack's second stage),
so a weak detector's flickering object stays one track, gathers the frames the persistence rules ask for and is
scored over the track. A fixed camera's reference image is read down to ``REFERENCE_LOW_RATIO`` (0.2), so what it
shows even weakly counts as already there. Why these values, and what they changed on dev and held-out clips:
``docs/tracking-confidences.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from vision.detect.base import Detector
from vision.detections import Detections
from vision.frame import Frame
from vision.sighting import Sighting
from vision.track import (
    SightingBuilder,
    SightingSettings,
    StationaryMerger,
    StationarySettings,
    Tracker,
    TrackerSettings,
    group_stationary,
)

DEFAULT_CONFIDENCE = 0.25  # a model card without default_conf: vision.detect.base.ModelInfo.default_conf
DEFAULT_LOW_RATIO = 0.4  # see the module docstring
REFERENCE_LOW_RATIO = 0.2  # a fixed camera's reference image is detected down to this much (module docstring)


class FrameDetector(Protocol):
    """Detects in a batch of frames (a model, or ground truth when evaluating the rest of the chain)."""

    def detect_frames(self, frames: Sequence[Frame]) -> list[Detections]:
        """One Detections per frame, in the frame's pixels."""
        ...


@dataclass(frozen=True)
class ModelDetector:
    """A `FrameDetector` over a loaded model, for tracking: it also returns detections below the operating confidence.

    Attributes:
        detector: The model.
        conf: The operating confidence (tracks start at it); ``None`` for the model card's ``default_conf``.
        low_ratio: Detections down to ``low_ratio * operating_conf`` are returned, for ByteTrack's second stage
            (see the module docstring); 1 returns only those at the operating confidence.
    """

    detector: Detector
    conf: float | None = None
    low_ratio: float = DEFAULT_LOW_RATIO

    def __post_init__(self) -> None:
        if not 0.0 < self.low_ratio <= 1.0:
            raise ValueError(f"ModelDetector.low_ratio must be in (0, 1], got {self.low_ratio!r}")
        if self.conf is not None and not 0.0 <= self.conf <= 1.0:
            raise ValueError(f"ModelDetector.conf must be in [0, 1], got {self.conf!r}")

    @property
    def names(self) -> tuple[str, ...]:
        """The model's class names by class id."""
        return tuple(self.detector.info.names)

    @property
    def operating_conf(self) -> float:
        """The confidence a detection needs to start a track (or to count on its own, in a photo)."""
        return float(self.conf if self.conf is not None else self.detector.info.default_conf)

    def detect_frames(self, frames: Sequence[Frame]) -> list[Detections]:
        """Runs the model on the frames' images; detections down to ``low_ratio * operating_conf``."""
        return self.detector.detect([frame.image for frame in frames], conf=self.operating_conf * self.low_ratio)


@dataclass(frozen=True)
class PipelineSettings:
    """How one source is tracked.

    Attributes:
        class_names: The detector's class names by class id.
        tracker: ByteTrack settings (rates and buffers in source seconds).
        lost_after_s: A track unseen this long ends as a sighting (at least the tracker's lost buffer).
        batch_size: Frames per inference batch.
        stationary: For cameras that do not move: how sightings of one static object split by broken tracks are
            merged back into one (`vision.track.StationaryMerger`); ``None`` merges nothing (patrol video).
    """

    class_names: tuple[str, ...]
    tracker: TrackerSettings = field(default_factory=TrackerSettings)
    lost_after_s: float = 3.0
    batch_size: int = 4
    stationary: StationarySettings | None = None

    @classmethod
    def for_camera(
        cls, kind: str | None, class_names: Sequence[str], fps: float = 2.0, confidence: float = DEFAULT_CONFIDENCE
    ) -> PipelineSettings:
        """Defaults for a ``patrol``, ``fixed`` or ``ptz`` camera sampled at ``fps``.

        Args:
            kind: The camera kind.
            class_names: The detector's class names by class id.
            fps: The sampling rate of the frames tracked.
            confidence: The detector's operating confidence (`operating_conf`): tracks start at it, the lower
                detections only continue them.
        """
        names = tuple(class_names)
        if kind == "patrol":
            tracker = TrackerSettings.patrol(
                frame_rate=fps,
                lost_track_buffer_s=3.0,
                track_activation_threshold=confidence,
                high_confidence_threshold=confidence,
            )
            return cls(names, tracker, lost_after_s=3.0)
        # Fixed and PTZ views: an object may be hidden by traffic for a while and must stay one sighting.
        tracker = TrackerSettings(
            frame_rate=fps,
            lost_track_buffer_s=30.0,
            track_activation_threshold=confidence,
            high_confidence_threshold=confidence,
        )
        # A static object lost for longer than the tracker remembers comes back as a new track in the same place.
        return cls(names, tracker, lost_after_s=30.0, stationary=StationarySettings())


@dataclass
class SourceStats:
    """Counts over one source."""

    frames: int = 0
    detections: int = 0
    sightings: int = 0
    last_timestamp: float = 0.0


class SourcePipeline:
    """Runs detection, tracking and sighting building over one source's frames."""

    def __init__(self, detector: FrameDetector, settings: PipelineSettings) -> None:
        self.detector = detector
        self.settings = settings

    def run(self, frames: Iterable[Frame], on_sighting: Callable[[Sighting], object]) -> SourceStats:
        """Hands every sighting of the source to ``on_sighting`` as its track ends, the rest at the end.

        With ``settings.stationary`` an ended sighting is held back while a later track of the same static object
        may still join it (`StationaryHold`), and handed on merged.

        Frames decoded before a source fails are still tracked; their open tracks are flushed before the error
        propagates, so a truncated video keeps what it showed.
        """
        stats = SourceStats()
        tracker = Tracker(self.settings.tracker)
        builder = SightingBuilder(SightingSettings(self.settings.class_names, lost_after_s=self.settings.lost_after_s))
        held = StationaryHold(self.settings.stationary)

        def hand_on(sightings: Iterable[Sighting]) -> None:
            for sighting in sightings:
                stats.sightings += 1
                on_sighting(sighting)

        try:
            for frame, detections in self._detect(frames, stats):
                tracked = tracker.update(detections, frame)
                ended = builder.update(frame, tracked, tracker.first_detections)
                hand_on(held.release(ended, frame.timestamp, builder))
        except BaseException:
            hand_on(held.flush(builder.flush()))
            raise
        hand_on(held.flush(builder.flush()))
        return stats

    def _detect(self, frames: Iterable[Frame], stats: SourceStats) -> Iterator[tuple[Frame, Detections]]:
        batch: list[Frame] = []
        for frame in frames:
            batch.append(frame)
            if len(batch) >= self.settings.batch_size:
                yield from self._run_batch(batch, stats)
                batch = []
        yield from self._run_batch(batch, stats)

    def _run_batch(self, batch: list[Frame], stats: SourceStats) -> Iterator[tuple[Frame, Detections]]:
        if not batch:
            return
        for frame, detections in zip(batch, self.detector.detect_frames(batch), strict=True):
            stats.frames += 1
            stats.detections += len(detections)
            stats.last_timestamp = frame.timestamp
            yield frame, detections


class StationaryHold:
    """Ended sightings held back while a later piece of the same static object may still join them.

    A piece is held until ``reach_s`` (the longer of ``max_gap_s`` and ``long_gap_s``) has passed since the last
    frame of its object and no open track could still join that object; then the object's pieces are handed on as
    one merged sighting. Without stationary settings every sighting passes straight through. One hold serves one
    source, beside its `SightingBuilder`.
    """

    def __init__(self, settings: StationarySettings | None) -> None:
        self.settings = settings
        self.merger = StationaryMerger(settings) if settings is not None else None
        self._held: list[Sighting] = []

    def release(self, ended: list[Sighting], now: float, builder: SightingBuilder) -> list[Sighting]:
        """The objects that can no longer grow, merged; ``ended`` are held until then."""
        if self.settings is None:
            return ended
        self._held.extend(ended)
        gap = self.settings.reach_s
        if not self._held or min(s.last_time for s in self._held) + gap >= now:
            return []  # nothing held is old enough to be complete
        released: list[Sighting] = []
        kept: list[Sighting] = []
        # The open tracks take part in the grouping: an object one of them may still join must wait for it.
        for pieces in group_stationary([*self._held, *builder.open_sightings()], self.settings):
            complete = all(piece.ended for piece in pieces) and max(p.last_time for p in pieces) + gap < now
            if complete:
                released.append(self._merged(pieces))
            else:
                kept.extend(piece for piece in pieces if piece.ended)
        self._held = kept
        return released

    def open_sightings(self, builder: SightingBuilder) -> list[Sighting]:
        """The builder's open tracks as objects: each merged with the held pieces of its object (``ended=False``).

        The merged sighting keeps its object's first piece's track id, the same key it is handed on under once it
        has ended (`release`), so a live stream can record it while in view and extend it later.
        """
        open_now = builder.open_sightings()
        if self.settings is None or self.merger is None:
            return open_now
        groups = group_stationary([*self._held, *open_now], self.settings)
        return [self._merged(pieces) for pieces in groups if not all(piece.ended for piece in pieces)]

    def flush(self, ended: list[Sighting]) -> list[Sighting]:
        """Everything held and ``ended`` (the source has ended), merged."""
        if self.merger is None:
            return ended
        held, self._held = [*self._held, *ended], []
        return self.merger.merge(held)

    def _merged(self, pieces: list[Sighting]) -> Sighting:
        assert self.merger is not None
        return self.merger.merge(pieces)[0]
