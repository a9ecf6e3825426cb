"""Measuring how well the tracker links objects, on frames whose detections carry each object's true id.

A synthetic patrol pass (``xiuhua synth patrol``) is ``pass_K.mp4`` with ``pass_K_frames.jsonl`` (one JSON object per
frame: ``frame``, ``t``, ``boxes``, ``class_id``, ``object_id``). `read_patrol_pass` turns it into frames and
detections that look like a detector's (boxes jittered, some dropped, random confidences) with the true object id
in ``track_id``; `linking_quality` hides those ids from a `Tracker` and scores what it makes of them:

- ``found``: of the objects detected in at least ``min_detections`` frames, the share that own a track of at least
  ``min_track_rows`` detections (a track's owner is the object most of its detections belong to). An object that
  owns none never becomes a sighting.
- ``tracks_per_found``: how many such tracks a found object owns; 1 is ideal, more are duplicate sightings that
  de-duplication by location has to merge.
- ``wrong_rows``: the share of tracked detections that belong to another object than their track's owner (ids
  switched or two objects merged).

Example::

    frames = read_patrol_pass(Path("out/patrol/pass_1.mp4"), Path("out/patrol/pass_1_frames.jsonl"))
    print(linking_quality(frames, TrackerSettings.patrol(frame_rate=2.0)))
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vision.detections import Detections
from vision.errors import SourceError
from vision.frame import Frame
from vision.sources import Sampling, open_source
from vision.track.tracker import Tracker, TrackerSettings


@dataclass(frozen=True)
class LinkingQuality:
    """How well a tracker linked one clip's objects (see the module's docstring)."""

    objects: int
    found: float
    tracks_per_found: float
    wrong_rows: float


def read_patrol_pass(
    video: Path,
    frames_jsonl: Path,
    *,
    sampling: Sampling | None = None,
    jitter: float = 0.04,
    drop: float = 0.15,
    seed: int = 0,
) -> Iterator[tuple[Frame, Detections]]:
    """A patrol pass's frames with detector-like detections made from its true boxes.

    Args:
        video: The pass's MP4.
        frames_jsonl: Its per-frame truth (line ``k`` belongs to decoded frame ``k``).
        sampling: Which frames to hand on (default: every frame).
        jitter: Standard deviation of each box coordinate's noise, as a fraction of the box's width or height.
        drop: Chance that a true box is missed in a frame.
        seed: Seeds the noise, drops and confidences (uniform in ``[0.35, 0.95]``).

    Yields:
        Each frame with its detections; ``track_id`` holds the true object ids.

    Raises:
        SourceError: The video and the truth disagree on the number of frames, or a truth line is malformed.
    """
    rng = np.random.default_rng(seed)
    lines = frames_jsonl.read_text().splitlines()
    every = sampling or Sampling.every_frame()
    handed = 0
    with open_source(video, sampling=every) as source:
        for frame in source:
            if frame.index >= len(lines):
                break
            handed += 1
            yield frame, _noisy(_truth_line(frames_jsonl, frame.index + 1, lines[frame.index]), rng, jitter, drop)
        else:
            if every.mode != "all" or handed == len(lines):
                return
    raise SourceError(str(video), f"its frames do not match the {len(lines)} lines of {frames_jsonl.name}")


def _truth_line(path: Path, number: int, line: str) -> Detections:
    try:
        truth = json.loads(line)
        boxes = np.asarray(truth["boxes"], np.float32).reshape(-1, 4)
        return Detections(boxes, np.ones(len(boxes), np.float32), truth["class_id"], truth["object_id"])
    except (ValueError, KeyError, TypeError) as error:
        raise SourceError(str(path), f"line {number}: {error}") from error


def _noisy(truth: Detections, rng: np.random.Generator, jitter: float, drop: float) -> Detections:
    kept = truth[rng.random(len(truth)) >= drop]
    size = np.tile(kept.xyxy[:, 2:] - kept.xyxy[:, :2], 2)
    boxes = kept.xyxy + rng.normal(0.0, jitter, kept.xyxy.shape) * size
    boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 1.0)
    confidence = rng.uniform(0.35, 0.95, len(kept)).astype(np.float32)
    return Detections(boxes.astype(np.float32), confidence, kept.class_id, kept.track_id)


def linking_quality(
    frames: Iterable[tuple[Frame, Detections]],
    settings: TrackerSettings,
    *,
    min_detections: int = 3,
    min_track_rows: int = 2,
) -> LinkingQuality:
    """Runs a fresh `Tracker` over frames whose detections carry true object ids and scores its tracks.

    Args:
        frames: One source's frames in time order; each detection's ``track_id`` is its true object id.
        settings: The tracker's settings.
        min_detections: Objects detected in fewer frames are not counted.
        min_track_rows: Shorter tracks are not counted (they would not make a sighting worth the name).
    """
    tracker = Tracker(settings)
    owners: defaultdict[int, Counter[int]] = defaultdict(Counter)  # track id -> true object id -> detections
    detections_of: Counter[int] = Counter()
    truth_of: dict[int, Detections] = {}  # frame index -> its detections with true ids (for first detections)
    for frame, truth in frames:
        if truth.track_id is None:
            raise ValueError(f"{frame.source_id}: frame {frame.index}: detections need the true object ids")
        truth_of[frame.index] = truth
        tracked = tracker.update(Detections(truth.xyxy, truth.confidence, truth.class_id), frame)
        _count_owners(owners, tracked, truth)
        for first in tracker.first_detections:  # a track's first detection, handed back on its confirmation
            _count_owners(owners, first.detections, truth_of[first.frame.index])
        detections_of.update(truth.track_id.tolist())
    objects = [obj for obj, count in detections_of.items() if count >= min_detections]
    tracks = {track: counts for track, counts in owners.items() if counts.total() >= min_track_rows}
    owned = Counter(counts.most_common(1)[0][0] for counts in tracks.values())
    found = [obj for obj in objects if owned[obj]]
    rows = sum(counts.total() for counts in tracks.values())
    wrong = sum(counts.total() - max(counts.values()) for counts in tracks.values())
    return LinkingQuality(
        objects=len(objects),
        found=len(found) / len(objects) if objects else 0.0,
        tracks_per_found=sum(owned[obj] for obj in found) / len(found) if found else 0.0,
        wrong_rows=wrong / rows if rows else 0.0,
    )


def _count_owners(owners: defaultdict[int, Counter[int]], tracked: Detections, truth: Detections) -> None:
    """Adds each tracked detection to its track's count of the true object it was made from."""
    assert tracked.track_id is not None and truth.track_id is not None
    for box, track_id in zip(tracked.xyxy, tracked.track_id.tolist(), strict=True):
        row = int(np.flatnonzero((truth.xyxy == box).all(axis=1))[0])
        owners[track_id][int(truth.track_id[row])] += 1
