"""ByteTrack fed detections below the operating confidence: they continue tracks, never start one, never twin one."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from factories.tracking import make_detections, make_frame

from vision.detections import Detections
from vision.track import Tracker, TrackerSettings

BOX = (60.0, 40.0, 100.0, 90.0)
TWIN = (62.0, 41.0, 101.0, 92.0)  # a second box on the same object: IoU with BOX about 0.86
OPERATING = 0.25


def run(tracker: Tracker, frames: Sequence[Sequence[tuple[tuple[float, ...], float]]]) -> list[Detections]:
    """Feeds one list of (box, confidence) per frame (2 fps); returns the tracker's output per frame."""
    out = []
    for index, rows in enumerate(frames):
        detections = make_detections([box for box, _ in rows], confidence=[conf for _, conf in rows])
        out.append(tracker.update(detections, make_frame(index)))
    return out


def ids(tracked: Detections) -> list[int]:
    assert tracked.track_id is not None
    return tracked.track_id.tolist()


def settings(**changes: float | None) -> TrackerSettings:
    return TrackerSettings(track_activation_threshold=OPERATING, high_confidence_threshold=OPERATING, **changes)


def test_low_confidence_detections_carry_a_started_track_through_its_dips() -> None:
    # A weak detector: confident in two frames, then 0.1-0.2 with one more confident frame in between.
    confidences = [0.6, 0.5, 0.15, 0.12, 0.18, 0.4, 0.1, 0.14]
    out = run(Tracker(settings()), [[(BOX, conf)] for conf in confidences])
    tracked = [ids(t) for t in out if len(t)]
    assert tracked == [[1]] * (len(confidences) - 1)  # every frame after the confirming one, one id


def test_an_object_seen_only_at_low_confidence_starts_no_track() -> None:
    out = run(Tracker(settings()), [[(BOX, 0.2)]] * 8)
    assert sum(len(t) for t in out) == 0


def test_a_low_box_on_a_confidently_detected_object_does_not_keep_a_twin_track_alive() -> None:
    # Two boxes on one object, both confident at first (two tracks), then the second only at low confidence.
    frames = [[(BOX, 0.9), (TWIN, 0.3)]] * 3 + [[(BOX, 0.9), (TWIN, 0.15)]] * 6
    kept = run(Tracker(settings()), frames)
    assert [ids(t) for t in kept[3:]] == [ids(kept[3])] * 6 and len(ids(kept[3])) == 1
    twinned = run(Tracker(settings(low_overlap_iou=None)), frames)
    assert all(len(t) == 2 for t in twinned[3:])  # without the rule the twin track lives on the low boxes


def test_a_low_box_beside_a_confident_one_is_kept() -> None:
    # A second object next to the first (no overlap), confident once then weak: its track continues.
    beside = (120.0, 40.0, 150.0, 90.0)
    frames = [[(BOX, 0.9), (beside, 0.5)]] * 2 + [[(BOX, 0.9), (beside, 0.12)]] * 4
    out = run(Tracker(settings()), frames)
    assert [len(t) for t in out[1:]] == [2] * 5


@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_low_overlap_iou_must_be_a_fraction(value: float) -> None:
    with pytest.raises(ValueError, match="low_overlap_iou"):
        TrackerSettings(low_overlap_iou=value)
