"""Tracking: detections linked across frames, and each linked object summarised as one `Sighting`.

Two stages, each with its settings in ``__init__`` and its data through one method:

- `Tracker` (ByteTrack, from Roboflow's ``trackers`` package) gives each detection a track id that stays with the
  object, one ByteTrack per class (or class group) so overlapping objects of different classes never swap ids. Its
  time settings are in seconds of source time and its ``frame_rate`` is the rate of the frames handed to it (the
  sampling rate, 2 fps by default), not the video's. For a moving patrol camera, use `TrackerSettings.patrol`:
  static objects sweep across the frame too fast at 2 fps for plain box overlap to link them.
- `SightingBuilder` keeps, per open track, its times, frame count, class vote, best confidences and the ONE frame
  that shows it best; it hands out a `Sighting` when the track has not been seen for ``lost_after_s``, and the
  rest at `SightingBuilder.flush` (end of source). A track starts at the object's second detection (ByteTrack
  confirms tracks on a match), so ``first_time`` is one sampled frame late and one-frame objects make no sighting.
- `StationaryMerger` (fixed cameras only) merges the sightings of one static object whose track broke (hidden,
  missed for a while) back into one, so its dwell runs from first to last seen.

`vision.track.evaluate` measures how well the tracker links objects on synthetic patrol passes.

Composed over one source (the same as `track_sightings`)::

    tracker = Tracker(TrackerSettings.patrol(frame_rate=2.0))  # or TrackerSettings() for a fixed camera
    builder = SightingBuilder(SightingSettings(class_names=detector.names, lost_after_s=3.0))
    with open_source("patrol.mp4", sampling=Sampling.per_second(2)) as source:
        for frame in source:
            detections = detector.detect([frame.image])[0]
            tracked = tracker.update(detections, frame)
            for sighting in builder.update(frame, tracked, tracker.first_detections):
                ...  # a track ended: locate it, judge it, store it
    for sighting in builder.flush():
        ...
"""

from __future__ import annotations

from vision.track.compose import track_sightings
from vision.track.quality import ViewWeights, crop_sharpness, view_quality
from vision.track.sightings import SightingBuilder, SightingSettings, track_score
from vision.track.stationary import StationaryMerger, StationarySettings, group_stationary
from vision.track.tracker import (
    MOTION_COMPENSATIONS,
    SIMILARITIES,
    TRACKERS_REQUIREMENT,
    FirstDetections,
    MotionCompensation,
    Similarity,
    Tracker,
    TrackerSettings,
)

__all__ = [
    "MOTION_COMPENSATIONS",
    "SIMILARITIES",
    "TRACKERS_REQUIREMENT",
    "FirstDetections",
    "MotionCompensation",
    "SightingBuilder",
    "SightingSettings",
    "Similarity",
    "StationaryMerger",
    "StationarySettings",
    "Tracker",
    "TrackerSettings",
    "ViewWeights",
    "crop_sharpness",
    "group_stationary",
    "track_score",
    "track_sightings",
    "view_quality",
]
