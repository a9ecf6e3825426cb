"""A track's first detection belongs to it, though ByteTrack gives the track its id only on its second."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Sequence

import numpy as np
import pytest
import supervision as sv
from factories.tracking import blurred, make_detections, make_frame, moving_box, panning_frames, textured_image

from vision.detections import Detections
from vision.errors import VisionError
from vision.frame import Frame
from vision.sighting import Sighting
from vision.track import (
    FirstDetections,
    SightingBuilder,
    SightingSettings,
    Tracker,
    TrackerSettings,
    track_sightings,
)

NAMES = ("vendor_stall", "goods_outside_shop", "material_pile", "banner")
BOX = [20.0, 30.0, 70.0, 90.0]


def sightings_of(frames: Sequence[tuple[Frame, Detections]], settings: TrackerSettings | None = None) -> list[Sighting]:
    tracker = Tracker(settings or TrackerSettings(lost_track_buffer_s=2.0))
    builder = SightingBuilder(SightingSettings(class_names=NAMES, lost_after_s=2.0))
    return list(track_sightings(frames, tracker, builder))


def test_an_object_detected_in_three_frames_is_seen_in_three_from_its_first() -> None:
    frames = [(make_frame(k), make_detections([moving_box(BOX, (3, 0), k)] if 2 <= k <= 4 else [])) for k in range(9)]
    [sighting] = sightings_of(frames)
    assert (sighting.frames_seen, sighting.first_time, sighting.last_time) == (3, 1.0, 2.0)
    assert sighting.dwell_seconds == pytest.approx(1.0)


def test_a_single_detection_flicker_is_no_sighting() -> None:
    # A tracklet that no later detection continues is never confirmed, so its one detection makes no sighting.
    frames = [(make_frame(k), make_detections([BOX] if k == 2 else [])) for k in range(8)]
    assert sightings_of(frames) == []


def test_the_first_detection_counts_after_one_missed_frame_too() -> None:
    # The library keeps an unconfirmed tracklet through one missed frame: detected at 0 and 2 s, not at 0.5 s.
    frames = [(make_frame(k), make_detections([BOX] if k in (0, 2) else [])) for k in range(8)]
    [sighting] = sightings_of(frames)
    assert (sighting.frames_seen, sighting.first_time, sighting.last_time) == (2, 0.0, 1.0)


def test_the_first_frame_competes_for_the_best_view_and_the_score() -> None:
    sharp = textured_image(120, 160, seed=1)
    confidences = [0.95, 0.5, 0.5, 0.5]
    frames = [
        (make_frame(k, image=sharp if k == 0 else blurred(sharp)), make_detections([BOX], confidence=confidence))
        for k, confidence in enumerate(confidences)
    ]
    [sighting] = sightings_of(frames)
    assert sighting.best_frame.index == 0
    assert sighting.top_confidences[0] == pytest.approx(0.95)


def test_two_objects_started_together_each_get_their_own_first_detection() -> None:
    boxes = [[10.0, 10.0, 40.0, 50.0], [100.0, 20.0, 140.0, 70.0]]
    tracker = Tracker(TrackerSettings())
    assert len(tracker.update(make_detections(boxes, confidence=[0.9, 0.6]), make_frame(0))) == 0
    tracked = tracker.update(make_detections(boxes[::-1], confidence=[0.7, 0.8]), make_frame(1))
    [first] = tracker.first_detections
    assert first.frame.index == 0
    assert first.detections.track_id is not None and tracked.track_id is not None
    by_track = dict(zip(first.detections.track_id.tolist(), first.detections.xyxy.tolist(), strict=True))
    now = dict(zip(tracked.track_id.tolist(), tracked.xyxy.tolist(), strict=True))
    assert by_track == now  # each track's first box is its object's (the objects stand still)
    assert sorted(first.detections.confidence.tolist()) == pytest.approx([0.6, 0.9])
    tracker.update(make_detections(boxes), make_frame(2))
    assert tracker.first_detections == ()  # reported once


def test_a_patrol_camera_gets_the_first_detection_of_an_object_sweeping_past() -> None:
    frames, offsets = panning_frames(6, shift_px=110)
    wall_box = np.array([700.0, 120.0, 750.0, 200.0])
    pairs = [
        (frame, make_detections([(wall_box - [offset, 0, offset, 0]).tolist()]))
        for frame, offset in zip(frames, offsets, strict=True)
    ]
    [sighting] = sightings_of(pairs, TrackerSettings.patrol())
    assert (sighting.frames_seen, sighting.first_time) == (6, 0.0)


def test_the_tracker_lets_go_of_a_frame_once_its_unconfirmed_tracklet_is_dropped() -> None:
    tracker = Tracker(TrackerSettings())
    frame = make_frame(0)
    held = weakref.ref(frame)
    tracker.update(make_detections([BOX]), frame)
    del frame
    for k in range(1, 4):
        tracker.update(Detections.empty(), make_frame(k))
    gc.collect()
    assert held() is None


def test_the_builder_rejects_a_first_detection_that_is_not_earlier_or_of_an_open_track() -> None:
    builder = SightingBuilder(SightingSettings(class_names=NAMES))
    builder.update(make_frame(0), make_detections([BOX], track_id=[1]))
    later = FirstDetections(make_frame(5), make_detections([BOX], track_id=[2]))
    with pytest.raises(VisionError, match="not an earlier frame"):
        builder.update(make_frame(1), make_detections([BOX], track_id=[2]), [later])
    again = FirstDetections(make_frame(0), make_detections([BOX], track_id=[1]))
    with pytest.raises(VisionError, match="already open"):
        builder.update(make_frame(2), make_detections([BOX], track_id=[1]), [again])


def test_the_library_starts_an_unconfirmed_tracklet_at_the_detection_and_confirms_it_on_the_next() -> None:
    # `Tracker` relies on this behaviour of trackers.ByteTrackTracker (its documented `tracks`, `tracker_id` and
    # `get_state_bbox`); if the library changes it, this test says so before first detections go missing.
    from trackers import ByteTrackTracker

    engine = ByteTrackTracker(
        lost_track_buffer=90, frame_rate=2.0, minimum_consecutive_frames=1, track_activation_threshold=0.25,
        high_conf_det_threshold=0.25,
    )  # fmt: skip
    box = np.array([BOX], np.float32)
    first = engine.update(sv.Detections(xyxy=box, confidence=np.array([0.9])), timestamp=0.0)
    assert first.tracker_id.tolist() == [-1]
    [tracklet] = engine.tracks
    assert tracklet.tracker_id == -1
    assert np.abs(np.asarray(tracklet.get_state_bbox()) - box[0]).max() <= 1e-2
    second = engine.update(sv.Detections(xyxy=box + 2, confidence=np.array([0.9])), timestamp=0.5)
    assert second.tracker_id.tolist() == [0]
    assert engine.tracks[0] is tracklet and tracklet.tracker_id == 0
