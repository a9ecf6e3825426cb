"""One object seen across many frames of one source: what tracking hands to location, rules and de-duplication."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from vision.frame import Frame, GeoPoint


@dataclass(frozen=True, eq=False)
class BoxPath:
    """Where a track's box was over time: an even sample of its detections, oldest first.

    A moving camera (a patrol vehicle) sees a still object from several places; the bearings of its boxes along the
    drive fix where it stands (`vision.geo.PatrolLocator.triangulate`).

    Attributes:
        times: ``(K,)`` source times (seconds) of the sampled detections, non-decreasing.
        boxes: ``(K, 4)`` float boxes ``x1, y1, x2, y2`` in the pixels of the frames at those times.
    """

    times: npt.NDArray[np.float64]
    boxes: npt.NDArray[np.float32]

    def __post_init__(self) -> None:
        times = np.asarray(self.times, dtype=np.float64).reshape(-1)
        boxes = np.asarray(self.boxes, dtype=np.float32).reshape(-1, 4)
        if len(times) != len(boxes) or not len(times):
            raise ValueError(f"BoxPath needs one box per time and at least one, got {len(times)} and {len(boxes)}")
        if np.any(np.diff(times) < 0):
            raise ValueError("BoxPath.times must be non-decreasing")
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "boxes", boxes)

    def __len__(self) -> int:
        return len(self.times)


@dataclass(frozen=True, eq=False)
class Sighting:
    """A tracked object, summarised.

    Attributes:
        source_id: The file or stream it was seen in.
        track_id: The tracker's id, unique within the source.
        class_id: The class most of its frames voted for (index into the model's class names).
        class_name: That class's name in the product's vocabulary (``vendor_stall``, ``banner`` …).
        first_time: Source time (seconds) of the first frame it was seen in (its track's first detection, which
            the tracker hands back once a second detection confirms the track).
        last_time: Source time of the last frame it was seen in.
        frames_seen: How many sampled frames it was detected in, its track's first detection included.
        score: Confidence aggregated over the track (not one lucky frame), in ``[0, 1]``.
        best_frame: The frame that shows it best (sharp, large, confident).
        best_box: ``(4,)`` float box ``x1, y1, x2, y2`` in ``best_frame``'s pixels.
        location: Where the object is on the map, once located (``None`` before).
        ended: Whether the track has ended (lost long enough); an open track may still grow.
        top_confidences: The track's highest confidences, highest first (what ``score`` was computed from), so
            sightings of one object split by a broken track can be scored as one (`vision.track.StationaryMerger`);
            empty when the sighting did not come from a `SightingBuilder`.
        typical_box: ``(4,)`` float box, the per-coordinate median of the track's boxes: where the object usually
            is. On a camera that does not move this, not ``best_box``, says which object it is: the best view is
            often the frame where the box was stretched by a passer-by in front of it. ``None`` when the sighting
            did not come from a `SightingBuilder`.
        path: An even sample of the track's boxes with their source times (where a moving camera saw it from
            where); ``None`` when the sighting did not come from a `SightingBuilder`.
        frame_span: Where its first and last frame stand among the frames its source's tracking was handed
            (0-based, both included): with ``frames_seen``, how steadily it was detected while in view (`coverage`).
            ``None`` when the sighting did not come from a `SightingBuilder`.
    """

    source_id: str
    track_id: int
    class_id: int
    class_name: str
    first_time: float
    last_time: float
    frames_seen: int
    score: float
    best_frame: Frame
    best_box: npt.NDArray[np.float32]
    location: GeoPoint | None = None
    ended: bool = True
    top_confidences: tuple[float, ...] = ()
    typical_box: npt.NDArray[np.float32] | None = None
    path: BoxPath | None = None
    frame_span: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.last_time < self.first_time:
            raise ValueError(f"sighting {self.track_id} of {self.source_id}: last_time before first_time")
        if self.frames_seen < 1:
            raise ValueError(f"sighting {self.track_id} of {self.source_id}: frames_seen must be >= 1")
        box = np.asarray(self.best_box, dtype=np.float32).reshape(4)
        object.__setattr__(self, "best_box", box)
        if self.typical_box is not None:
            object.__setattr__(self, "typical_box", np.asarray(self.typical_box, dtype=np.float32).reshape(4))
        object.__setattr__(self, "top_confidences", tuple(float(c) for c in self.top_confidences))
        if self.frame_span is not None:
            first, last = (int(v) for v in self.frame_span)
            if not 0 <= first <= last:
                raise ValueError(f"sighting {self.track_id} of {self.source_id}: bad frame_span {self.frame_span}")
            object.__setattr__(self, "frame_span", (first, last))

    @property
    def place_boxes(self) -> npt.NDArray[np.float32]:
        """``(K, 4)``: the boxes that say where in the image the object is: ``best_box``, and ``typical_box`` when
        known."""
        if self.typical_box is None:
            return self.best_box[None, :]
        return np.stack([self.best_box, self.typical_box])

    @property
    def dwell_seconds(self) -> float:
        """How long it stayed in view: last minus first sighting time."""
        return self.last_time - self.first_time

    @property
    def frames_tracked(self) -> int | None:
        """How many frames its source's tracking was handed from its first frame to its last (the frames it could
        have been detected in; fewer than the video's when sampling or a motion gate skipped some); ``None`` when
        not known."""
        if self.frame_span is None:
            return None
        return self.frame_span[1] - self.frame_span[0] + 1

    @property
    def coverage(self) -> float | None:
        """The share of `frames_tracked` it was detected in, at most 1: a stall that stands there is detected in
        most frames, a flicker of the detector on a wall in a few; ``None`` when not known."""
        tracked = self.frames_tracked
        return None if tracked is None else min(1.0, self.frames_seen / tracked)

    def wall_time(self, source_time: float) -> datetime | None:
        """The absolute time of ``source_time`` (seconds into the source), when the best frame knows its wall time."""
        frame = self.best_frame
        if frame.wall_time is None:
            return None
        return frame.wall_time + timedelta(seconds=source_time - frame.timestamp)
