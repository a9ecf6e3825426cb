"""Two confident boxes on one object (an NMS-free head's duplicate) start one track, not twins."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from factories.tracking import make_detections, make_frame

from vision.detections import Detections
from vision.track import Tracker, TrackerSettings

BOX = (60.0, 40.0, 100.0, 90.0)
TWIN = (62.0, 41.0, 101.0, 92.0)  # a second box on the same object: IoU with BOX about 0.86
BESIDE = (98.0, 40.0, 138.0, 90.0)  # the next sign along the facade, touching BOX: IoU about 0.03
OPERATING = 0.25


def run(settings: TrackerSettings, frames: Sequence[Sequence[tuple[tuple[float, ...], float]]]) -> list[Detections]:
    """Feeds one list of (box, confidence) per frame; returns the tracker's output per frame."""
    tracker = Tracker(settings)
    out = []
    for index, rows in enumerate(frames):
        detections = make_detections([box for box, _ in rows], confidence=[conf for _, conf in rows])
        out.append(tracker.update(detections, make_frame(index)))
    return out


def track_ids(out: list[Detections]) -> set[int]:
    return {int(i) for tracked in out if tracked.track_id is not None for i in tracked.track_id}


def settings(**changes: float | None) -> TrackerSettings:
    return TrackerSettings(track_activation_threshold=OPERATING, high_confidence_threshold=OPERATING, **changes)


def test_two_confident_boxes_on_one_object_make_one_track() -> None:
    frames = [[(BOX, 0.8), (TWIN, 0.45)]] * 6
    assert len(track_ids(run(settings(high_overlap_iou=0.7), frames))) == 1
    assert len(track_ids(run(settings(), frames))) == 2  # off by default: the twin starts its own track


def test_two_confident_objects_side_by_side_stay_two_tracks() -> None:
    frames = [[(BOX, 0.8), (BESIDE, 0.45)]] * 6
    assert len(track_ids(run(settings(high_overlap_iou=0.7), frames))) == 2


def test_the_more_confident_box_is_the_one_kept() -> None:
    out = run(settings(high_overlap_iou=0.7), [[(BOX, 0.45), (TWIN, 0.8)]] * 3)
    assert [tuple(t.xyxy[0].tolist()) for t in out[1:]] == [TWIN, TWIN]
    assert all(len(t) == 1 for t in out[1:])


def test_the_patrol_preset_drops_confident_duplicates() -> None:
    preset = TrackerSettings.patrol(
        frame_rate=5.0, track_activation_threshold=OPERATING, high_confidence_threshold=OPERATING
    )
    assert preset.high_overlap_iou == 0.7
    assert TrackerSettings.patrol(high_overlap_iou=None).high_overlap_iou is None


@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_high_overlap_iou_must_be_a_fraction(value: float) -> None:
    with pytest.raises(ValueError, match="high_overlap_iou"):
        TrackerSettings(high_overlap_iou=value)
