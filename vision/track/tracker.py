"""ByteTrack over our `Detections`, one tracker per class group, on the sampled stream's own clock.

The tracking itself is Roboflow's ``trackers.ByteTrackTracker`` (the maintained successor of
``supervision.ByteTrack``, which supervision removed in 0.30); this module only converts between our
`Detections` and ``supervision.Detections``, keeps overlapping objects of different classes apart, numbers
tracks uniquely within the source, speaks in seconds of source time, and hands back the first detection of a track
that the library confirms only on its second one (`FirstDetections`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import supervision as sv

from vision.detections import Detections
from vision.errors import VisionError
from vision.frame import Frame

Similarity = Literal["iou", "biou", "giou", "diou"]
SIMILARITIES: tuple[Similarity, ...] = ("iou", "biou", "giou", "diou")
MotionCompensation = Literal["none", "orb", "sift", "sparseOptFlow", "ecc"]
MOTION_COMPENSATIONS: tuple[MotionCompensation, ...] = ("none", "orb", "sift", "sparseOptFlow", "ecc")
TRACKERS_REQUIREMENT = "trackers>=2.6,<3"
# The library counts its lost-track buffer in frames of a 30 fps video.
_LIBRARY_FPS = 30.0
_EPSILON = 1e-6
# A fresh tracklet's state box is the detection it was started from, up to float32 rounding.
_SAME_BOX_PX = 1e-2


@dataclass(frozen=True)
class TrackerSettings:
    """How ByteTrack links detections across the frames of one source.

    Sampled video is sparse and may be irregular (2 fps by default, keyframes only for a skim), so every setting
    that smells of time is in seconds of source time or relative to the rate of the frames *handed to the tracker*,
    never the video's native rate. The tracker steps its motion model by the real gap between two frames' timestamps.

    Attributes:
        frame_rate: Nominal rate of the frames passed to `Tracker.update` (the sampling rate, e.g. ``2.0``), not the
            video's native 25/30 fps. ByteTrack's Kalman filter counts velocity per ``1 / frame_rate`` seconds.
        lost_track_buffer_s: How long (source seconds) a track that got no detection is kept for re-linking; after
            that a re-appearance gets a new id. Rounded down to 1/30 s (the library counts 30 fps frames). Keep the
            sighting builder's ``lost_after_s`` at least this long.
        track_activation_threshold: Minimum confidence of a detection to start a new track.
        high_confidence_threshold: ByteTrack's split: detections at or above it are matched first and may start
            tracks; those below only continue existing tracks (the second, "BYTE" stage). Set both thresholds to the
            model's operating confidence and feed the tracker detections found at a lower one (the pipeline asks
            the detector for 0.4 of it: see ``service.pipeline.source.ModelDetector``).
        low_overlap_iou: A detection below ``high_confidence_threshold`` whose IoU with a more confident detection
            of the same class (or class group) exceeds this is dropped before tracking: it is a second box on an
            object already detected, not a continuation, and left in it would keep a twin track of that object
            alive. ``None`` keeps every detection. Detections at or above the threshold are kept by this rule.
        high_overlap_iou: The same for detections at or above ``high_confidence_threshold``: one whose IoU with a
            more confident detection of its class (or class group) exceeds this is dropped before tracking, so two
            confident boxes on one object do not start two tracks of it (an end-to-end, NMS-free head such as
            YOLO26's still gives such pairs when it is weakly trained). It is the detector's class-aware NMS at
            this IoU; ``None`` (the default) keeps them; the patrol preset sets it (see `patrol`).
        minimum_matching_threshold: Minimum similarity between a track's predicted box and a detection to link them.
        similarity: Box similarity for linking: ``"iou"``; ``"biou"``, IoU of boxes grown by ``buffer_ratio`` of
            their size on each side, which tolerates the jumps of sparse sampling; ``"giou"`` or ``"diou"`` (signed,
            in ``[-1, 1]``: use a threshold near 0).
        buffer_ratio: How much ``"biou"`` grows each box on each side, as a fraction of its width and height.
        class_groups: Class ids that share one tracker, so a detection whose class flickers among them keeps its
            id (the sighting builder then votes on the class). Every class not listed is tracked on its own, so
            overlapping objects of different classes (a banner over a stall) never swap ids.
        motion_compensation: Camera motion compensation: ``"none"`` for a fixed camera; for a moving one, how the
            library's ``CMC`` estimates the image motion between two frames (``"orb"`` features, ``"sift"``,
            ``"sparseOptFlow"`` or ``"ecc"``), which then moves every track into the new frame before matching.
        motion_downscale: Integer factor the frames are shrunk by before estimating their motion (speed).
    """

    frame_rate: float = 2.0
    lost_track_buffer_s: float = 3.0
    track_activation_threshold: float = 0.25
    high_confidence_threshold: float = 0.25
    low_overlap_iou: float | None = 0.7
    high_overlap_iou: float | None = None
    minimum_matching_threshold: float = 0.1
    similarity: Similarity = "biou"
    buffer_ratio: float = 0.5
    class_groups: tuple[tuple[int, ...], ...] = ()
    motion_compensation: MotionCompensation = "none"
    motion_downscale: int = 2

    def __post_init__(self) -> None:
        if not (math.isfinite(self.frame_rate) and self.frame_rate > 0):
            raise ValueError(f"TrackerSettings.frame_rate must be a positive number, got {self.frame_rate!r}")
        if not (math.isfinite(self.lost_track_buffer_s) and self.lost_track_buffer_s >= 0):
            raise ValueError(
                f"TrackerSettings.lost_track_buffer_s must be a non-negative number, got {self.lost_track_buffer_s!r}"
            )
        for name in ("track_activation_threshold", "high_confidence_threshold"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"TrackerSettings.{name} must be in [0, 1], got {value!r}")
        for name in ("low_overlap_iou", "high_overlap_iou"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise ValueError(f"TrackerSettings.{name} must be in [0, 1] or None, got {value!r}")
        if not -1.0 <= self.minimum_matching_threshold <= 1.0:
            raise ValueError(
                "TrackerSettings.minimum_matching_threshold must be in [-1, 1], "
                f"got {self.minimum_matching_threshold!r}"
            )
        if self.similarity not in SIMILARITIES:
            raise ValueError(f"TrackerSettings.similarity must be one of {SIMILARITIES}, got {self.similarity!r}")
        if not (math.isfinite(self.buffer_ratio) and self.buffer_ratio >= 0):
            raise ValueError(f"TrackerSettings.buffer_ratio must be a non-negative number, got {self.buffer_ratio!r}")
        if self.motion_compensation not in MOTION_COMPENSATIONS:
            raise ValueError(
                f"TrackerSettings.motion_compensation must be one of {MOTION_COMPENSATIONS}, "
                f"got {self.motion_compensation!r}"
            )
        if self.motion_downscale < 1:
            raise ValueError(f"TrackerSettings.motion_downscale must be at least 1, got {self.motion_downscale!r}")
        seen: set[int] = set()
        for group in self.class_groups:
            for class_id in group:
                if class_id < 0 or class_id in seen:
                    raise ValueError(
                        f"TrackerSettings.class_groups: class {class_id} is negative or in more than one group"
                    )
                seen.add(class_id)

    @classmethod
    def patrol(cls, frame_rate: float = 2.0, **changes: Any) -> TrackerSettings:
        """Settings for a camera on a moving vehicle: image motion compensated from ORB features.

        A static stall or banner sweeps across a patrol camera's frame by one to three box widths between two
        frames at 2 fps, so boxes of one object rarely overlap from frame to frame. Measured with
        `vision.track.evaluate` on synthetic patrol passes (``write_patrol`` seeds 4242-4245 rendered at 2 fps and
        4242-4243 at 5 fps, two passes each, 960x540; 2.5 fps is every other 5 fps frame; true boxes jittered 4 %,
        15 % dropped, three noise seeds), the share of objects seen in 3+ frames that own a track of 2+
        detections, and of tracked detections given to the wrong object:

        ==========  ==============  =====================  ===================
        sampling    ByteTrack IoU   BIoU 0.5 (default)     this preset
        ==========  ==============  =====================  ===================
        2 fps       34 % / 39 %     53 % / 35 %            72 % / 18 %
        2.5 fps     43 % / 23 %     56 % / 25 %            83 % / 8 %
        5 fps       58 % / 7 %      73 % / 10 %            91 % / 5 %
        ==========  ==============  =====================  ===================

        Patrol video is better tracked at 5 fps than at 2. The ORB motion estimate costs about 3 ms per 960x540 frame
        here (sparse optical flow 28 ms).

        A confident box that overlaps a more confident one of its class by IoU > 0.7 is dropped
        (``high_overlap_iou``, the usual NMS IoU): the shipped end-to-end model gives such twin boxes on one object
        (575 same-class pairs above 0.7 among 3 215 boxes at 0.25 on dev street 7401), and each twin became a track,
        then a second candidate, since two tracks seen together are two objects (``docs/patrol-recall.md``).

        Args:
            frame_rate: The sampling rate of the frames handed to the tracker.
            **changes: Any other `TrackerSettings` field.
        """
        defaults: dict[str, Any] = {
            "motion_compensation": "orb",
            "similarity": "biou",
            "buffer_ratio": 0.5,
            "high_overlap_iou": 0.7,
        }
        return cls(frame_rate=frame_rate, **{**defaults, **changes})

    @property
    def lost_track_frames_30fps(self) -> int:
        """The lost-track buffer in the library's unit (frames of a 30 fps video), rounded down."""
        return math.floor(self.lost_track_buffer_s * _LIBRARY_FPS + _EPSILON)


@dataclass(frozen=True)
class FirstDetections:
    """The first detections of tracks confirmed in the latest `Tracker.update`, found in an earlier frame.

    ByteTrack starts a tracklet from a confident detection it cannot link, but gives it an id only when a later
    detection continues it; the detection it started from belongs to the track all the same.

    Attributes:
        frame: The earlier frame they were found in (held by the tracker until the tracklet was confirmed or
            dropped, so it can serve as evidence).
        detections: Those detections, ``track_id`` set to their tracks' ids.
    """

    frame: Frame
    detections: Detections


@dataclass
class _Spawn:
    """An unconfirmed tracklet of the library and the detection (one row) it was started from."""

    tracklet: Any
    frame: Frame
    detection: Detections


def _duplicates_dropped(
    detections: Detections, groups: np.ndarray, high: float, low_iou: float | None, high_iou: float | None
) -> np.ndarray:
    """Which detections to keep: all but those that overlap a more confident one of their group too much.

    Args:
        detections: One frame's detections.
        groups: The tracker group of each detection (its class, or its class group).
        high: The high-confidence threshold: ``low_iou`` applies below it, ``high_iou`` at or above it.
        low_iou: A detection below ``high`` whose IoU with a more confident detection of its group exceeds this is
            dropped; ``None`` keeps them.
        high_iou: The same for detections at or above ``high``; ``None`` keeps them.

    Returns:
        A boolean mask over ``detections``.
    """
    keep = np.ones(len(detections), dtype=bool)
    confidence = detections.confidence
    limits = np.full(len(detections), np.inf)
    if low_iou is not None:
        limits[confidence < high] = low_iou
    if high_iou is not None:
        limits[confidence >= high] = high_iou
    checked = np.flatnonzero(np.isfinite(limits))
    if not len(checked):
        return keep
    boxes = detections.xyxy.astype(np.float64)
    areas = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    for row in checked:
        rivals = (groups == groups[row]) & (confidence > confidence[row])
        rivals[row] = False
        if not rivals.any():
            continue
        left_top = np.maximum(boxes[rivals, :2], boxes[row, :2])
        right_bottom = np.minimum(boxes[rivals, 2:], boxes[row, 2:])
        inter = np.prod(np.clip(right_bottom - left_top, 0, None), axis=1)
        union = areas[rivals] + areas[row] - inter
        iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        keep[row] = not bool((iou > limits[row]).any())
    return keep


def _import_byte_track() -> Any:
    """The ``trackers`` package, or a clear error saying what to install."""
    try:
        import trackers
    except ImportError as error:
        raise VisionError(
            "tracking needs Roboflow's 'trackers' package (ByteTrack moved there from supervision, which removed it "
            f"in 0.30): pip install '{TRACKERS_REQUIREMENT}'"
        ) from error
    return trackers


class Tracker:
    """Gives each detection a track id that stays with the object from frame to frame.

    One `Tracker` serves one source, fed its frames in time order. Each class (or class group) has its own
    ByteTrack, so detections of different classes are never linked. A new object gets its id on its second
    detection (ByteTrack confirms a track when a detection matches it), so an object seen in a single sampled
    frame is never reported. The detection the track was started from, in an earlier frame, comes back then in
    `first_detections`, so a track's detections are all of the object's; hand both to
    `SightingBuilder.update`. Ids are unique within the source and never reused.

    Example::

        tracker = Tracker(TrackerSettings(frame_rate=2.0))
        for frame, detections in zip(frames, detections_per_frame):
            tracked = tracker.update(detections, frame)  # tracked.track_id is set
            builder.update(frame, tracked, tracker.first_detections)
    """

    def __init__(self, settings: TrackerSettings | None = None) -> None:
        """Prepares a tracker; the per-class ByteTracks are made as classes show up.

        Raises:
            VisionError: The ``trackers`` package is not installed.
        """
        self.settings = settings or TrackerSettings()
        self._library = _import_byte_track()
        self._group_of = {
            class_id: -1 - index for index, group in enumerate(self.settings.class_groups) for class_id in group
        }
        self._engines: dict[int, Any] = {}
        self._ids: dict[int, dict[int, int]] = {}  # group -> the library's id -> our id
        self._next_id = 1
        self._motion: Any = None
        if self.settings.motion_compensation != "none":
            self._motion = self._library.CMC(
                self._library.CMCConfig(
                    method=self.settings.motion_compensation, downscale=self.settings.motion_downscale
                )
            )
        self._source_id: str | None = None
        self._last_time: float | None = None
        self._spawns: dict[int, list[_Spawn]] = {}  # group -> the library's unconfirmed tracklets and their origin
        self._first: tuple[FirstDetections, ...] = ()

    @property
    def first_detections(self) -> tuple[FirstDetections, ...]:
        """The earlier first detections of the tracks the latest `update` confirmed, by frame time (often empty).

        Each such track is in that update's output for the first time; its first detection is the confident
        detection, one or two sampled frames earlier, that the library started its tracklet from.
        """
        return self._first

    def update(self, detections: Detections, frame: Frame) -> Detections:
        """Links this frame's detections to the tracks so far.

        Args:
            detections: The frame's detections (``track_id`` is ignored).
            frame: The frame they were found in; its ``timestamp`` drives the tracker's clock.

        Returns:
            The detections that belong to a confirmed track, in their input order, with ``track_id`` set. The
            earlier first detections of tracks confirmed here are in `first_detections` until the next update.

        Raises:
            VisionError: The frame comes from another source than the first, or is not later than the previous one.
        """
        self._check_clock(frame)
        if self._motion is not None:
            # Move every track into this frame's pixels before ByteTrack predicts and matches: an object that stands
            # still in the street then stands still for the tracker too, however fast the camera pans past it.
            affine = self._motion.estimate(frame.image, detections.xyxy)
            for engine in self._engines.values():
                self._library.CMC.apply_batch(affine, engine.tracks)
        groups = np.array([self._group_of.get(int(c), int(c)) for c in detections.class_id], dtype=np.int64)
        if self.settings.low_overlap_iou is not None or self.settings.high_overlap_iou is not None:
            keep = _duplicates_dropped(
                detections,
                groups,
                self.settings.high_confidence_threshold,
                self.settings.low_overlap_iou,
                self.settings.high_overlap_iou,
            )
            detections, groups = detections[keep], groups[keep]
        for group in np.unique(groups).tolist():
            if group not in self._engines:
                self._engines[group] = self._new_engine()
        rows: list[np.ndarray] = []
        ids: list[np.ndarray] = []
        firsts: list[_Spawn] = []
        for group, engine in self._engines.items():
            group_rows, group_ids, untracked = self._update_engine(
                group, engine, detections, np.flatnonzero(groups == group)
            )
            rows.append(group_rows)
            ids.append(group_ids)
            firsts += self._follow_spawns(group, engine, frame, detections[untracked])
        self._first = _by_frame(firsts)
        all_rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        all_ids = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        order = np.argsort(all_rows, kind="stable")
        return detections[all_rows[order]].with_tracks(all_ids[order])

    def _check_clock(self, frame: Frame) -> None:
        if self._source_id is None:
            self._source_id = frame.source_id
        elif frame.source_id != self._source_id:
            raise VisionError(
                f"{frame.source_id}: frame {frame.index} handed to a tracker of {self._source_id}; "
                "use one Tracker per source"
            )
        if not math.isfinite(frame.timestamp):
            raise VisionError(f"{frame.source_id}: frame {frame.index} has no finite timestamp ({frame.timestamp!r})")
        if self._last_time is not None and frame.timestamp <= self._last_time:
            raise VisionError(
                f"{frame.source_id}: frame {frame.index} at {frame.timestamp:.3f} s is not later than the previous "
                f"frame ({self._last_time:.3f} s); tracking needs frames in increasing time order"
            )
        self._last_time = frame.timestamp

    def _new_engine(self) -> Any:
        settings = self.settings
        library = self._library
        if settings.similarity == "biou":
            metric = library.BIoU(buffer_ratio=settings.buffer_ratio)
        else:
            metric = {"iou": library.IoU, "giou": library.GIoU, "diou": library.DIoU}[settings.similarity]()
        return library.ByteTrackTracker(
            lost_track_buffer=settings.lost_track_frames_30fps,
            frame_rate=settings.frame_rate,
            track_activation_threshold=settings.track_activation_threshold,
            minimum_consecutive_frames=1,
            minimum_iou_threshold=settings.minimum_matching_threshold,
            high_conf_det_threshold=settings.high_confidence_threshold,
            iou=metric,
        )

    def _update_engine(
        self, group: int, engine: Any, detections: Detections, rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Runs one group's ByteTrack on its rows; returns the input rows it confirmed, their source-wide ids, and
        the rows it left untracked (those it may have started tracklets from)."""
        subset = sv.Detections(
            xyxy=detections.xyxy[rows].astype(np.float32),
            confidence=detections.confidence[rows],
            class_id=detections.class_id[rows],
            data={"row": rows.astype(np.int64)},
        )
        assert self._last_time is not None
        result = engine.update(subset, timestamp=self._last_time)
        local_ids = np.asarray(result.tracker_id, dtype=np.int64)
        result_rows = np.asarray(result.data.get("row", np.zeros(0, np.int64)), dtype=np.int64)
        confirmed = local_ids >= 0
        ids = self._ids.setdefault(group, {})
        global_ids = np.array([self._global_id(ids, int(i)) for i in local_ids[confirmed]], dtype=np.int64)
        # Forget the tracks the library dropped, so this mapping follows the live tracks only.
        alive = {int(i) for i in engine.tracked_objects.tracker_id}
        for local_id in [i for i in ids if i not in alive]:
            del ids[local_id]
        return result_rows[confirmed], global_ids, result_rows[~confirmed]

    def _follow_spawns(self, group: int, engine: Any, frame: Frame, untracked: Detections) -> list[_Spawn]:
        """After one group's update: the spawns confirmed now (their detection given its track id), forgetting
        those the library dropped, and remembering the tracklets it started now with the detection of each (among
        ``untracked``, the group's detections it left without an id).

        Uses only ``engine.tracks``, the library's documented list of alive tracklets (``tracker_id`` -1 until
        confirmed, ``get_state_bbox``); a tracklet is followed by identity, so no matching of boxes across frames.
        """
        ids = self._ids[group]
        alive = {id(tracklet) for tracklet in engine.tracks}
        confirmed: list[_Spawn] = []
        waiting: list[_Spawn] = []
        for spawn in self._spawns.get(group, []):
            if id(spawn.tracklet) not in alive:
                continue
            local_id = int(spawn.tracklet.tracker_id)
            if local_id < 0:
                waiting.append(spawn)
            elif local_id in ids:
                confirmed.append(replace(spawn, detection=spawn.detection.with_tracks([ids[local_id]])))
        known = {id(spawn.tracklet) for spawn in waiting}
        boxes = untracked.xyxy.astype(np.float64)
        for tracklet in engine.tracks:
            if tracklet.tracker_id != -1 or id(tracklet) in known or not len(untracked):
                continue
            # A tracklet starts as the box it was started from; find that box among the untracked rows.
            distance = np.abs(boxes - np.asarray(tracklet.get_state_bbox(), np.float64)).max(axis=1)
            nearest = int(np.argmin(distance))
            if distance[nearest] <= _SAME_BOX_PX:
                waiting.append(_Spawn(tracklet, frame, untracked[np.array([nearest])]))
        self._spawns[group] = waiting
        return confirmed

    def _global_id(self, ids: dict[int, int], local_id: int) -> int:
        if local_id not in ids:
            ids[local_id] = self._next_id
            self._next_id += 1
        return ids[local_id]


def _by_frame(spawns: list[_Spawn]) -> tuple[FirstDetections, ...]:
    """The confirmed spawns' detections, one `FirstDetections` per frame, by frame time."""
    frames: dict[int, tuple[Frame, list[Detections]]] = {}
    for spawn in spawns:
        frames.setdefault(id(spawn.frame), (spawn.frame, []))[1].append(spawn.detection)
    ordered = sorted(frames.values(), key=lambda item: item[0].timestamp)
    return tuple(FirstDetections(frame, Detections.merge(parts)) for frame, parts in ordered)
