from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from factories.tracking import make_detections, make_frame, moving_box, panning_frames

from vision.detections import Detections
from vision.errors import VisionError
from vision.track import Tracker, TrackerSettings

STALL, BANNER = 0, 3


def run(
    tracker: Tracker, boxes_per_frame: Sequence[Sequence[Sequence[float]]], class_id: int | list[int] = 0
) -> list[Detections]:
    """Feeds one box list per frame (2 fps) and returns the tracker's output per frame."""
    out = []
    for index, boxes in enumerate(boxes_per_frame):
        classes = class_id if isinstance(class_id, int) else class_id[: len(boxes)]
        out.append(tracker.update(make_detections(boxes, class_id=classes), make_frame(index)))
    return out


def ids(tracked: Detections) -> list[int]:
    assert tracked.track_id is not None
    return tracked.track_id.tolist()


def test_a_steadily_moving_box_keeps_one_id() -> None:
    frames = [[moving_box((10, 40, 50, 80), (12, 1), step)] for step in range(20)]
    out = run(Tracker(), frames)
    assert len(out[0]) == 0  # a new object is confirmed by its second detection
    assert {i for tracked in out[1:] for i in ids(tracked)} == {1}
    np.testing.assert_allclose(out[5].xyxy[0], moving_box((10, 40, 50, 80), (12, 1), 5))


def test_a_static_object_keeps_its_id_through_a_short_gap_but_not_a_long_one() -> None:
    box = [[60, 40, 100, 90]]
    settings = TrackerSettings(lost_track_buffer_s=2.0)
    present = [box] * 4 + [[]] * 3 + [box] * 3 + [[]] * 6 + [box] * 3  # gaps of 2.0 s then 3.5 s
    out = run(Tracker(settings), present)
    seen = [ids(tracked) for tracked in out if len(tracked)]
    assert seen == [[1]] * 6 + [[2]] * 2


def test_two_objects_crossing_keep_distinct_ids() -> None:
    frames = [
        [moving_box((0, 50, 40, 90), (10, 0), step), moving_box((200, 55, 240, 95), (-10, 0), step)]
        for step in range(21)
    ]
    out = run(Tracker(), frames)
    left_to_right = {ids(t)[0] for t in out[1:]}
    right_to_left = {ids(t)[1] for t in out[1:]}
    assert len(left_to_right) == 1 and len(right_to_left) == 1
    assert left_to_right != right_to_left


def test_overlapping_objects_of_different_classes_never_swap_ids() -> None:
    banner = [40.0, 20.0, 140.0, 50.0]
    frames = [[banner, moving_box((30, 15, 70, 60), (8, 0), step)] for step in range(12)]
    out = run(Tracker(), frames, class_id=[BANNER, STALL])
    by_class: dict[int, set[int]] = {BANNER: set(), STALL: set()}
    for tracked in out[1:]:
        for class_id, track_id in zip(tracked.class_id.tolist(), ids(tracked), strict=True):
            by_class[class_id].add(track_id)
    assert len(by_class[BANNER]) == 1 and len(by_class[STALL]) == 1
    assert by_class[BANNER] != by_class[STALL]


@pytest.mark.parametrize(("groups", "expected_ids"), [((), 2), (((0, 1),), 1)])
def test_class_groups_let_a_flickering_class_keep_its_id(
    groups: tuple[tuple[int, ...], ...], expected_ids: int
) -> None:
    box = [50, 50, 90, 100]
    classes = [0, 0, 1, 0, 1, 1, 0, 0]
    tracker = Tracker(TrackerSettings(class_groups=groups))
    out = [tracker.update(make_detections([box], class_id=c), make_frame(k)) for k, c in enumerate(classes)]
    found = {i for tracked in out for i in ids(tracked)}
    assert len(found) == expected_ids


def test_two_close_objects_in_one_frame_get_two_ids() -> None:
    frames = [[[20, 40, 60, 100], [62, 40, 102, 100]]] * 6
    out = run(Tracker(), frames)
    for tracked in out[1:]:
        assert ids(tracked) == [1, 2]


def test_output_keeps_input_order_and_original_boxes() -> None:
    tracker = Tracker()
    boxes = [[100, 10, 140, 50], [10, 10, 50, 50], [50, 60, 90, 100]]
    classes = [STALL, BANNER, STALL]
    for index in range(3):
        tracked = tracker.update(make_detections(boxes, class_id=classes), make_frame(index))
    np.testing.assert_array_equal(tracked.xyxy, np.asarray(boxes, np.float32))
    assert tracked.class_id.tolist() == classes
    assert len(set(ids(tracked))) == 3


def test_irregular_sparse_timestamps_are_fine() -> None:
    tracker = Tracker(TrackerSettings(frame_rate=0.5))
    times = [0.0, 1.9, 4.3, 5.0, 7.1, 9.0]  # keyframes of a variable-GOP video, gaps under the 3 s buffer
    out = [
        tracker.update(make_detections([moving_box((10, 10, 60, 60), (3, 0), round(t))]), make_frame(k, t))
        for k, t in enumerate(times)
    ]
    assert {i for tracked in out for i in ids(tracked)} == {1}
    assert sum(len(tracked) for tracked in out) == len(times) - 1


def test_empty_frames_and_ids_are_never_reused() -> None:
    tracker = Tracker(TrackerSettings(lost_track_buffer_s=0.5))
    seen: list[int] = []
    for index in range(30):
        boxes = [[10, 10, 50, 50]] if index % 6 < 3 else []  # appears, vanishes for 1.5 s, again
        seen += ids(tracker.update(make_detections(boxes), make_frame(index)))
    assert seen == sorted(seen)
    assert len(set(seen)) == 5


def test_a_patrol_camera_still_links_a_static_object_that_sweeps_across_the_frame() -> None:
    frames, offsets = panning_frames(6, shift_px=110)
    wall_box = np.array([700.0, 120.0, 750.0, 200.0])  # on the wall, 50 px wide: it moves 2.2 widths per frame

    def track(settings: TrackerSettings) -> list[int]:
        tracker = Tracker(settings)
        found: list[int] = []
        for frame, offset in zip(frames, offsets, strict=True):
            box = wall_box - [offset, 0, offset, 0]
            found += ids(tracker.update(make_detections([box.tolist()]), frame))
        return found

    assert track(TrackerSettings.patrol()) == [1] * 5
    assert track(TrackerSettings()) == []  # without motion compensation the boxes never overlap


def test_frames_must_come_in_time_order_from_one_source() -> None:
    tracker = Tracker()
    tracker.update(Detections.empty(), make_frame(3))
    with pytest.raises(VisionError, match=r"clip\.mp4: frame 2 at 1\.000 s is not later"):
        tracker.update(Detections.empty(), make_frame(2))
    with pytest.raises(VisionError, match="not later"):
        tracker.update(Detections.empty(), make_frame(3))
    with pytest.raises(VisionError, match="one Tracker per source"):
        tracker.update(Detections.empty(), make_frame(4, source="other.mp4"))
