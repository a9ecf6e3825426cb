"""From tracked detections to sightings: one object across frames, its best frame, and a score over the track."""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from vision.detections import Detections, FloatArray
from vision.errors import VisionError
from vision.frame import Frame
from vision.sighting import BoxPath, Sighting
from vision.track.quality import ViewWeights, view_quality
from vision.track.tracker import FirstDetections

# Timestamps come from rational time bases and sums of gaps; a track must not end by a rounding error.
_EPSILON = 1e-6
_ORDINAL_MEMORY = 256  # frames whose place is remembered for first detections (the tracker confirms within a few)
# The typical box is the median of at most this many of a track's boxes, spread evenly over the track (also the
# sighting's path).
BOX_SAMPLE = 64


@dataclass(frozen=True)
class SightingSettings:
    """How tracks become sightings.

    Attributes:
        class_names: The detector's class names, indexed by class id (``Sighting.class_name`` comes from here).
        lost_after_s: A track not detected for longer than this (source seconds) has ended; a later detection of
            the same object is a new sighting. Keep it at least the tracker's ``lost_track_buffer_s``, so the
            tracker never continues a track whose sighting already ended.
        top_k: The score is the mean of the track's ``top_k`` highest confidences: one lucky frame moves it by
            only ``1 / top_k`` of its lead, and the frames where the object is far or half hidden do not drag it down.
        full_score_frames: A track seen in fewer frames than this has its score scaled by
            ``frames_seen / full_score_frames``: two frames are weaker evidence than ten, however confident.
        view: How the best frame is chosen (sharp, large, confident, not cut by the image's edge).
        ended_memory_s: How long (source seconds after its last detection) an ended track's id is remembered, to
            catch a tracker that continues it; older ids are forgotten, so a stream that runs for months does not
            keep one id per track it ever saw.
    """

    class_names: tuple[str, ...]
    lost_after_s: float = 3.0
    top_k: int = 5
    full_score_frames: int = 3
    view: ViewWeights = field(default_factory=ViewWeights)
    ended_memory_s: float = 600.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "class_names", tuple(self.class_names))
        if not self.class_names:
            raise ValueError("SightingSettings.class_names must name at least one class")
        if not (math.isfinite(self.lost_after_s) and self.lost_after_s >= 0):
            raise ValueError(f"SightingSettings.lost_after_s must be a non-negative number, got {self.lost_after_s!r}")
        if self.top_k < 1:
            raise ValueError(f"SightingSettings.top_k must be at least 1, got {self.top_k!r}")
        if self.full_score_frames < 1:
            raise ValueError(f"SightingSettings.full_score_frames must be at least 1, got {self.full_score_frames!r}")
        if not (math.isfinite(self.ended_memory_s) and self.ended_memory_s >= 0):
            raise ValueError(
                f"SightingSettings.ended_memory_s must be a non-negative number, got {self.ended_memory_s!r}"
            )


def track_score(top_confidences: Sequence[float], frames_seen: int, full_score_frames: int) -> float:
    """A track's score: the mean of its best confidences, damped when it was seen in few frames.

    Args:
        top_confidences: The track's highest confidences (at most ``top_k`` of them).
        frames_seen: How many frames the track was detected in.
        full_score_frames: From this many frames on the score is not damped.

    Returns:
        ``mean(top_confidences) * min(1, frames_seen / full_score_frames)``, in ``[0, 1]``.
    """
    if not top_confidences:
        return 0.0
    mean = sum(top_confidences) / len(top_confidences)
    return float(min(max(mean * min(1.0, frames_seen / full_score_frames), 0.0), 1.0))


@dataclass
class _Track:
    """What the builder keeps of one open track: counts, votes, the best confidences, and ONE frame."""

    track_id: int
    first_time: float
    last_time: float
    last_index: int
    frames_seen: int
    first_ordinal: int  # the builder's count of frames before its first frame
    last_ordinal: int
    best_quality: float
    best_frame: Frame
    best_box: FloatArray
    votes: dict[int, float] = field(default_factory=dict)
    top: list[float] = field(default_factory=list)  # a min-heap of at most top_k confidences
    boxes: list[FloatArray] = field(default_factory=list)  # every ``stride``-th box, at most BOX_SAMPLE of them
    times: list[float] = field(default_factory=list)  # the source time of each sampled box
    stride: int = 1
    boxes_seen: int = 0

    def add_box(self, box: FloatArray, time: float) -> None:
        """Keeps an evenly spread sample of the track's boxes (with their times): when full, every other one goes
        and the stride doubles, so memory stays bounded however long the track lives."""
        if self.boxes_seen % self.stride == 0:
            self.boxes.append(box.copy())
            self.times.append(time)
            if len(self.boxes) >= BOX_SAMPLE:
                self.boxes, self.times = self.boxes[::2], self.times[::2]
                self.stride *= 2
        self.boxes_seen += 1

    def path(self) -> BoxPath:
        """The sampled boxes with their times."""
        return BoxPath(np.array(self.times, dtype=np.float64), np.stack(self.boxes).astype(np.float32))

    def typical_box(self) -> FloatArray:
        """The per-coordinate median of the sampled boxes."""
        return np.median(np.stack(self.boxes), axis=0).astype(np.float32)


class SightingBuilder:
    """Turns one source's tracked detections into `Sighting` objects, frame by frame.

    Per open track it keeps its first and last time, the frames it was seen in, a confidence-weighted class vote,
    its ``top_k`` best confidences, an even sample of at most ``BOX_SAMPLE`` of its boxes with their times (its
    typical box and its path) and a reference to the ONE frame that shows it best, so memory stays bounded however
    long the stream runs (plus the ids of the tracks ended within ``ended_memory_s``, to catch a tracker that
    continues a track whose sighting already ended). One builder serves one source; `flush` ends it.

    Example::

        builder = SightingBuilder(SightingSettings(class_names=detector.names))
        for frame, detections in frames:
            tracked = tracker.update(detections, frame)
            for sighting in builder.update(frame, tracked, tracker.first_detections):
                ...  # these tracks have ended
        for sighting in builder.flush():
            ...  # the source has ended
    """

    def __init__(self, settings: SightingSettings) -> None:
        """Prepares an empty builder."""
        self.settings = settings
        self._open: dict[int, _Track] = {}
        self._ended: dict[int, float] = {}  # ended track id -> its last time, in the order they ended
        self._source_id: str | None = None
        self._last_time: float | None = None
        self._frames = 0  # frames handed to update() for this source
        self._ordinals: dict[int, int] = {}  # recent frames' index -> their place among those frames

    @property
    def open_tracks(self) -> int:
        """How many tracks are open (seen within ``lost_after_s``)."""
        return len(self._open)

    @property
    def remembered_ended(self) -> int:
        """How many ended tracks' ids are remembered (those ended within ``ended_memory_s``)."""
        return len(self._ended)

    def update(self, frame: Frame, tracked: Detections, first: Sequence[FirstDetections] = ()) -> list[Sighting]:
        """Adds one frame's tracked detections; returns the sightings whose tracks ended at this frame.

        A track ends when it has not been detected for more than ``lost_after_s`` seconds before this frame.

        Args:
            frame: The frame the detections were found in (frames in time order, one source).
            tracked: Its detections with ``track_id`` set (the output of `Tracker.update`).
            first: The earlier first detections of tracks that appear in ``tracked`` for the first time
                (`Tracker.first_detections`): each such track starts at its first detection's frame, which counts
                among its frames and competes for its best view and score like any other.

        Returns:
            The ended sightings (``ended=True``), by track id.

        Raises:
            ValueError: ``tracked`` or a ``first`` has no track ids, or a class id has no name in ``class_names``.
            VisionError: The frame is from another source or earlier than the previous one, or the tracker
                continued a track whose sighting had ended (``lost_after_s`` shorter than its lost-track buffer),
                or a first detection is later than ``frame``, from another source, or of a track already open.
        """
        self._check_frame(frame)
        if tracked.track_id is None:
            raise ValueError("SightingBuilder.update needs tracked detections (track_id set): run Tracker.update first")
        ended = self._end_lost(frame.timestamp)
        for earlier in first:
            self._add_first(frame, earlier)
        for row in range(len(tracked)):
            self._add(frame, tracked, row)
        return ended

    def flush(self) -> list[Sighting]:
        """Ends every open track (the source has ended) and forgets the source; returns their sightings by track id."""
        sightings = [self._sighting(self._open[track_id], ended=True) for track_id in sorted(self._open)]
        self._open.clear()
        self._ended.clear()
        self._source_id = None
        self._last_time = None
        self._frames = 0
        self._ordinals.clear()
        return sightings

    def open_sightings(self) -> list[Sighting]:
        """The tracks still open, summarised as they stand (``ended=False``), by track id: for live streams, where a
        stall that stays for hours must be reported before it leaves."""
        return [self._sighting(self._open[track_id], ended=False) for track_id in sorted(self._open)]

    def _check_frame(self, frame: Frame) -> None:
        if self._source_id is None:
            self._source_id = frame.source_id
        elif frame.source_id != self._source_id:
            raise VisionError(
                f"{frame.source_id}: frame {frame.index} handed to the sighting builder of {self._source_id}; "
                "use one SightingBuilder per source (or flush it first)"
            )
        if not math.isfinite(frame.timestamp):
            raise VisionError(f"{frame.source_id}: frame {frame.index} has no finite timestamp ({frame.timestamp!r})")
        if self._last_time is not None and frame.timestamp < self._last_time:
            raise VisionError(
                f"{frame.source_id}: frame {frame.index} at {frame.timestamp:.3f} s is earlier than the previous frame "
                f"({self._last_time:.3f} s); sightings need frames in time order"
            )
        self._last_time = frame.timestamp
        self._ordinals[frame.index] = self._frames
        self._frames += 1
        if len(self._ordinals) > _ORDINAL_MEMORY:
            del self._ordinals[next(iter(self._ordinals))]

    def _end_lost(self, now: float) -> list[Sighting]:
        limit = self.settings.lost_after_s + _EPSILON
        lost = sorted(track_id for track_id, track in self._open.items() if now - track.last_time > limit)
        sightings = []
        for track_id in lost:
            track = self._open.pop(track_id)
            sightings.append(self._sighting(track, ended=True))
            self._ended[track_id] = track.last_time
        self._forget_ended(now)
        return sightings

    def _forget_ended(self, now: float) -> None:
        # Tracks end in roughly the order of their last times: drop from the oldest end until one is recent.
        horizon = now - self.settings.ended_memory_s
        while self._ended:
            oldest = next(iter(self._ended))
            if self._ended[oldest] >= horizon:
                break
            del self._ended[oldest]

    def _add_first(self, frame: Frame, earlier: FirstDetections) -> None:
        """Opens the tracks that ``earlier`` starts, before ``frame``'s detections continue them."""
        if earlier.detections.track_id is None:
            raise ValueError("SightingBuilder.update: first detections need track ids (Tracker.first_detections)")
        if earlier.frame.source_id != frame.source_id or earlier.frame.timestamp > frame.timestamp:
            raise VisionError(
                f"{frame.source_id}: frame {frame.index}: a first detection from frame {earlier.frame.index} of "
                f"{earlier.frame.source_id} at {earlier.frame.timestamp:.3f} s is not an earlier frame of this source"
            )
        for row, track_id in enumerate(earlier.detections.track_id.tolist()):
            if int(track_id) in self._open:
                raise VisionError(
                    f"{frame.source_id}: frame {frame.index}: track {track_id} is already open; a first detection "
                    "comes with the update that first reports its track"
                )
            self._add(earlier.frame, earlier.detections, row)

    def _add(self, frame: Frame, tracked: Detections, row: int) -> None:
        assert tracked.track_id is not None
        track_id = int(tracked.track_id[row])
        class_id = int(tracked.class_id[row])
        if not 0 <= class_id < len(self.settings.class_names):
            raise ValueError(
                f"{frame.source_id}: frame {frame.index}: class id {class_id} has no name "
                f"(class_names has {len(self.settings.class_names)})"
            )
        if track_id in self._ended:
            raise VisionError(
                f"{frame.source_id}: frame {frame.index}: track {track_id} came back after its sighting ended; "
                f"lost_after_s ({self.settings.lost_after_s} s) must be at least the tracker's lost_track_buffer_s"
            )
        box = tracked.xyxy[row]
        confidence = float(tracked.confidence[row])
        quality = view_quality(frame.image, box, confidence, self.settings.view)
        # A first detection's frame was handed to update() a few frames ago; one beyond memory counts as this one.
        ordinal = self._ordinals.get(frame.index, self._frames - 1)
        track = self._open.get(track_id)
        if track is None:
            track = _Track(
                track_id, frame.timestamp, frame.timestamp, frame.index, 1, ordinal, ordinal, quality, frame, box.copy()
            )
            self._open[track_id] = track
        else:
            if track.last_index != frame.index:
                track.frames_seen += 1
            track.last_time, track.last_index, track.last_ordinal = frame.timestamp, frame.index, ordinal
            if quality > track.best_quality:
                track.best_quality, track.best_frame, track.best_box = quality, frame, box.copy()
        track.add_box(box, frame.timestamp)
        track.votes[class_id] = track.votes.get(class_id, 0.0) + confidence
        if len(track.top) < self.settings.top_k:
            heapq.heappush(track.top, confidence)
        elif confidence > track.top[0]:
            heapq.heapreplace(track.top, confidence)

    def _sighting(self, track: _Track, *, ended: bool) -> Sighting:
        # Highest total confidence wins; a tie goes to the lower class id, so the vote is deterministic.
        class_id = min(track.votes, key=lambda c: (-track.votes[c], c))
        return Sighting(
            source_id=track.best_frame.source_id,
            track_id=track.track_id,
            class_id=class_id,
            class_name=self.settings.class_names[class_id],
            first_time=track.first_time,
            last_time=track.last_time,
            frames_seen=track.frames_seen,
            frame_span=(track.first_ordinal, track.last_ordinal),
            score=track_score(track.top, track.frames_seen, self.settings.full_score_frames),
            best_frame=track.best_frame,
            best_box=np.array(track.best_box, dtype=np.float32),
            ended=ended,
            top_confidences=tuple(sorted(track.top, reverse=True)),
            typical_box=track.typical_box(),
            path=track.path(),
        )
