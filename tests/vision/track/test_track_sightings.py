from __future__ import annotations

import gc
import weakref
from collections.abc import Sequence

import numpy as np
import pytest
from factories.tracking import blurred, make_detections, make_frame, textured_image

from vision.detections import Detections
from vision.errors import VisionError
from vision.frame import Frame
from vision.sighting import Sighting
from vision.track import SightingBuilder, SightingSettings, ViewWeights, track_score

NAMES = ("vendor_stall", "goods_outside_shop", "material_pile", "banner")


def builder(**changes: object) -> SightingBuilder:
    return SightingBuilder(SightingSettings(class_names=NAMES, **changes))  # type: ignore[arg-type]


def one(track_id: int, box: Sequence[float], confidence: float = 0.8, class_id: int = 0) -> Detections:
    return make_detections([box], confidence=confidence, class_id=class_id, track_id=[track_id])


def test_a_track_is_summarised_when_it_has_been_lost_long_enough() -> None:
    sightings = builder(lost_after_s=2.0)
    box = [10, 10, 50, 60]
    for index in range(1, 6):  # seen at 0.5 .. 2.5 s
        assert sightings.update(make_frame(index), one(7, box)) == []
    for index in range(6, 10):  # lost from 2.5 s: still open until more than 2 s have passed
        assert sightings.update(make_frame(index), Detections.empty().with_tracks([])) == []
    [ended] = sightings.update(make_frame(10), Detections.empty().with_tracks([]))
    assert (ended.source_id, ended.track_id, ended.class_name, ended.ended) == ("clip.mp4", 7, "vendor_stall", True)
    assert (ended.first_time, ended.last_time, ended.frames_seen, ended.dwell_seconds) == (0.5, 2.5, 5, 2.0)
    np.testing.assert_array_equal(ended.best_box, np.asarray(box, np.float32))
    assert sightings.open_tracks == 0


def test_a_re_appearance_after_the_track_ended_is_a_new_sighting() -> None:
    sightings = builder(lost_after_s=1.0)
    box = [10, 10, 50, 60]
    ended: list[Sighting] = []
    for index in range(12):
        tracked = one(1 if index < 4 else 2, box) if index < 4 or index >= 8 else one(0, box)[[]]
        ended += sightings.update(make_frame(index), tracked)
    ended += sightings.flush()
    assert [(s.track_id, s.first_time, s.last_time) for s in ended] == [(1, 0.0, 1.5), (2, 4.0, 5.5)]


def test_two_close_objects_in_one_frame_are_two_sightings() -> None:
    sightings = builder()
    boxes = [[20, 40, 60, 100], [61, 40, 101, 100]]
    for index in range(4):
        sightings.update(make_frame(index), make_detections(boxes, track_id=[3, 4]))
    assert [s.track_id for s in sightings.flush()] == [3, 4]


def test_the_class_is_the_confidence_weighted_vote() -> None:
    sightings = builder()
    box = [10, 10, 50, 60]
    for index, (class_id, confidence) in enumerate([(0, 0.3), (0, 0.3), (0, 0.3), (3, 0.95)]):
        sightings.update(make_frame(index), one(1, box, confidence, class_id))
    [sighting] = sightings.flush()
    assert (sighting.class_id, sighting.class_name) == (3, "banner")  # 0.95 outweighs 3 x 0.3 though outvoted


def test_a_tied_vote_goes_to_the_lower_class_id() -> None:
    sightings = builder()
    for index, class_id in enumerate([2, 1]):
        sightings.update(make_frame(index), one(1, [10, 10, 50, 60], 0.5, class_id))
    assert sightings.flush()[0].class_id == 1


def test_the_best_frame_is_the_sharp_large_one() -> None:
    picture = textured_image(240, 320, seed=3)
    large = [40, 40, 280, 200]
    small = [130, 100, 190, 150]
    views = [
        (make_frame(0, image=blurred(picture)), large, 0.9),  # large but blurred
        (make_frame(1, image=picture), small, 0.9),  # sharp but small
        (make_frame(2, image=picture), large, 0.7),  # sharp and large: the best view though less confident
        (make_frame(3, image=blurred(picture, 2.0)), large, 0.9),
    ]
    sightings = builder()
    for frame, box, confidence in views:
        sightings.update(frame, one(1, box, confidence))
    [sighting] = sightings.flush()
    assert sighting.best_frame is views[2][0]
    np.testing.assert_array_equal(sighting.best_box, np.asarray(large, np.float32))


def test_a_box_cut_by_the_image_edge_is_a_worse_view() -> None:
    picture = textured_image(240, 320, seed=4)
    sightings = builder()
    inside, cut = make_frame(0, image=picture), make_frame(1, image=picture)
    sightings.update(inside, one(1, [100, 60, 200, 160]))
    sightings.update(cut, one(1, [0, 60, 110, 170]))  # a little larger, but at the left edge
    assert sightings.flush()[0].best_frame is inside


def test_the_score_resists_one_outlier_frame() -> None:
    box = [10, 10, 50, 60]
    for outlier, expected in [(0.99, (0.99 + 4 * 0.5) / 5), (0.01, 0.5)]:
        sightings = builder(top_k=5)
        confidences = [0.5] * 10
        confidences[4] = outlier
        for index, confidence in enumerate(confidences):
            sightings.update(make_frame(index), one(1, box, confidence))
        assert sightings.flush()[0].score == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    ("confidences", "frames_seen", "expected"),
    [([0.9], 1, 0.3), ([0.9, 0.9], 2, 0.6), ([0.9, 0.9, 0.9], 3, 0.9), ([0.8, 0.6], 40, 0.7), ([], 0, 0.0)],
)
def test_a_short_track_scores_lower(confidences: list[float], frames_seen: int, expected: float) -> None:
    assert track_score(confidences, frames_seen, full_score_frames=3) == pytest.approx(expected)


def test_flush_ends_every_open_track_and_forgets_the_source() -> None:
    sightings = builder()
    sightings.update(make_frame(0), make_detections([[0, 0, 9, 9], [20, 0, 29, 9]], track_id=[5, 2]))
    sightings.update(make_frame(1), one(9, [40, 0, 49, 9]))
    assert [(s.track_id, s.ended) for s in sightings.open_sightings()] == [(2, False), (5, False), (9, False)]
    flushed = sightings.flush()
    assert [(s.track_id, s.ended) for s in flushed] == [(2, True), (5, True), (9, True)]
    assert sightings.open_tracks == 0 and sightings.flush() == []
    sightings.update(make_frame(0, source="next.mp4"), one(5, [0, 0, 9, 9]))  # a new source may follow
    assert sightings.flush()[0].source_id == "next.mp4"


def test_one_frame_index_counts_once_per_track() -> None:
    sightings = builder()
    sightings.update(make_frame(0), make_detections([[0, 0, 9, 9], [1, 0, 10, 9]], track_id=[1, 1]))
    assert sightings.flush()[0].frames_seen == 1


def test_memory_holds_at_most_one_frame_per_open_track_over_ten_minutes() -> None:
    """A 10-minute stream at 2 fps with objects coming and going: the builder never holds more frames than tracks."""
    rng = np.random.default_rng(0)
    sightings = builder(lost_after_s=3.0)
    alive: weakref.WeakSet[Frame] = weakref.WeakSet()
    spans = [(int(start), int(start + rng.integers(4, 120))) for start in rng.integers(0, 1200, 60)]
    ended = 0
    most_open = 0
    for index in range(1200):
        present = [k for k, (start, stop) in enumerate(spans) if start <= index < stop]
        boxes = [[10.0 * k, 10.0, 10.0 * k + 8 + rng.random(), 30.0] for k in present]
        frame = make_frame(index, image=np.zeros((40, 640, 3), np.uint8))
        alive.add(frame)
        ended += len(
            sightings.update(frame, make_detections(boxes, rng.uniform(0.3, 0.9, len(boxes)), track_id=present))
        )
        del frame
        gc.collect(0)
        most_open = max(most_open, sightings.open_tracks)
        assert len(alive) <= sightings.open_tracks
    ended += len(sightings.flush())
    assert ended == len(spans) and most_open >= 5
    assert len(alive) == 0


def test_untracked_detections_are_refused() -> None:
    with pytest.raises(ValueError, match=r"run Tracker\.update first"):
        builder().update(make_frame(0), make_detections([[0, 0, 9, 9]]))


def test_a_class_without_a_name_is_refused() -> None:
    with pytest.raises(ValueError, match=r"class id 7 has no name \(class_names has 4\)"):
        builder().update(make_frame(0), one(1, [0, 0, 9, 9], class_id=7))


def test_frames_must_come_in_time_order_from_one_source() -> None:
    sightings = builder()
    sightings.update(make_frame(4), one(1, [0, 0, 9, 9]))
    sightings.update(make_frame(4), one(1, [0, 0, 9, 9]))  # the same time again is allowed
    with pytest.raises(VisionError, match=r"clip\.mp4: frame 3 at 1\.500 s is earlier"):
        sightings.update(make_frame(3), one(1, [0, 0, 9, 9]))
    with pytest.raises(VisionError, match="one SightingBuilder per source"):
        sightings.update(make_frame(5, source="other.mp4"), one(1, [0, 0, 9, 9]))


def test_a_track_continued_after_its_sighting_ended_names_the_settings() -> None:
    sightings = builder(lost_after_s=1.0)
    sightings.update(make_frame(0), one(1, [0, 0, 9, 9]))
    with pytest.raises(VisionError, match=r"track 1 came back .* lost_after_s \(1\.0 s\) must be at least"):
        sightings.update(make_frame(5), one(1, [0, 0, 9, 9]))


def test_ended_track_ids_are_forgotten_after_the_memory_so_a_long_stream_stays_bounded() -> None:
    """A 4-hour stream at 1 frame/s with a new object every 10 s: the ids kept are those of the last 10 minutes."""
    sightings = builder(lost_after_s=3.0, ended_memory_s=600.0)
    most = 0
    for second in range(14_400):
        track_id = second // 10 + 1
        sightings.update(make_frame(second, timestamp=float(second)), one(track_id, [0, 0, 9, 9]))
        most = max(most, sightings.remembered_ended)
    assert 55 <= most <= 62  # ~600 s / 10 s per track, not the 1,440 tracks of the 4 hours
    with pytest.raises(VisionError, match="track 1440 came back"):  # a recent id is still caught
        sightings.update(make_frame(14_410, timestamp=14_410.0), one(1440, [0, 0, 9, 9]))


def test_an_id_that_ended_an_hour_ago_is_a_new_track() -> None:
    """The default memory (10 minutes) is far past any tracker's buffer; the id was forgotten, not kept forever."""
    sightings = builder(lost_after_s=1.0)
    sightings.update(make_frame(0, timestamp=0.0), one(1, [0, 0, 9, 9]))
    sightings.update(make_frame(1, timestamp=3600.0), Detections.empty().with_tracks([]))
    sightings.update(make_frame(2, timestamp=3601.0), one(1, [0, 0, 9, 9]))
    assert [(s.track_id, s.first_time) for s in sightings.flush()] == [(1, 3601.0)]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"class_names": ()}, "class_names"),
        ({"lost_after_s": -1.0}, "lost_after_s"),
        ({"ended_memory_s": float("nan")}, "ended_memory_s"),
        ({"top_k": 0}, "top_k"),
        ({"full_score_frames": 0}, "full_score_frames"),
    ],
)
def test_bad_settings_name_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        SightingSettings(**{"class_names": NAMES, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(("field", "value"), [("size_weight", -1.0), ("edge_penalty", 0.0), ("edge_penalty", 1.5)])
def test_bad_view_weights_name_the_field(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        ViewWeights(**{field: value})
