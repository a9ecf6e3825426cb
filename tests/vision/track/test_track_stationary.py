from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pytest
from factories.tracking import blurred, make_detections, make_frame, textured_image

from vision.sighting import Sighting
from vision.track import (
    SightingBuilder,
    SightingSettings,
    StationaryMerger,
    StationarySettings,
    track_score,
)

NAMES = ("vendor_stall", "goods_outside_shop", "material_pile", "banner")
STALL = (40.0, 40.0, 100.0, 100.0)


def piece(
    track_id: int,
    first: float,
    last: float,
    *,
    box: Sequence[float] = STALL,
    class_name: str = "vendor_stall",
    confidences: Sequence[float] = (0.3,),
    frames: int | None = None,
    sharp: bool = True,
    typical: Sequence[float] | None = None,
) -> Sighting:
    """One track's sighting, seen from ``first`` to ``last`` s at 2 fps unless ``frames`` says otherwise."""
    image = textured_image(120, 160, seed=track_id)
    frame = make_frame(int(last * 2), last, image=image if sharp else blurred(image, 6.0))
    seen = frames if frames is not None else int((last - first) * 2) + 1
    top = tuple(sorted(confidences, reverse=True))
    return Sighting(
        source_id="clip.mp4",
        track_id=track_id,
        class_id=NAMES.index(class_name),
        class_name=class_name,
        first_time=first,
        last_time=last,
        frames_seen=seen,
        score=track_score(top, seen, 3),
        best_frame=frame,
        best_box=np.asarray(box, np.float32),
        top_confidences=top,
        typical_box=None if typical is None else np.asarray(typical, np.float32),
    )


def merge(sightings: Sequence[Sighting], **changes: object) -> list[Sighting]:
    return StationaryMerger(StationarySettings(**changes)).merge(sightings)  # type: ignore[arg-type]


def test_a_stall_whose_track_broke_twice_is_one_sighting_from_first_to_last_seen() -> None:
    pieces = [piece(3, 10.0, 70.0), piece(9, 100.0, 150.0, box=(42, 41, 101, 99)), piece(14, 200.0, 290.0)]
    [stall] = merge(pieces, max_gap_s=60.0)
    assert (stall.track_id, stall.first_time, stall.last_time) == (3, 10.0, 290.0)
    assert stall.frames_seen == sum(p.frames_seen for p in pieces)
    assert stall.dwell_seconds == 280.0


def test_pieces_further_apart_than_the_gap_are_two_objects() -> None:
    merged = merge([piece(1, 0.0, 50.0), piece(2, 111.0, 200.0)], max_gap_s=60.0, long_gap_s=0.0)
    assert [(s.track_id, s.first_time, s.last_time) for s in merged] == [(1, 0.0, 50.0), (2, 111.0, 200.0)]


@pytest.mark.parametrize(
    ("box", "class_name", "merged"),
    [
        ((100, 40, 160, 100), "vendor_stall", False),  # beside the stall, touching it: another object
        ((46, 44, 106, 104), "vendor_stall", True),  # the same place, a box a few pixels off
        (STALL, "banner", False),  # the same place, another class
    ],
)
def test_only_the_same_class_in_the_same_place_merges(box: Sequence[float], class_name: str, merged: bool) -> None:
    result = merge([piece(1, 0.0, 50.0), piece(2, 60.0, 120.0, box=box, class_name=class_name)])
    assert len(result) == (1 if merged else 2)


def test_confused_classes_merge_only_when_grouped_and_the_object_takes_the_best_evidenced_class() -> None:
    pieces = [
        piece(1, 0.0, 20.0, class_name="goods_outside_shop"),
        piece(2, 30.0, 200.0, confidences=(0.5, 0.4)),
    ]
    assert len(merge(pieces)) == 2
    [stall] = merge(pieces, same_object=[("vendor_stall", "goods_outside_shop")])
    assert (stall.track_id, stall.class_name, stall.class_id) == (1, "vendor_stall", 0)


def test_the_score_is_taken_over_the_pieces_best_confidences() -> None:
    weak = piece(1, 0.0, 60.0, confidences=(0.26, 0.22, 0.2, 0.2, 0.2))
    strong = piece(2, 80.0, 90.0, confidences=(0.4, 0.35), frames=2)
    [stall] = merge([weak, strong], top_k=5)
    assert stall.top_confidences == (0.4, 0.35, 0.26, 0.22, 0.2)
    assert stall.score == pytest.approx((0.4 + 0.35 + 0.26 + 0.22 + 0.2) / 5)
    assert stall.score > max(weak.score, strong.score)


def test_the_best_frame_is_the_best_view_among_the_pieces() -> None:
    blurry = piece(1, 0.0, 60.0, sharp=False)
    sharp = piece(2, 70.0, 90.0)
    [stall] = merge([blurry, sharp])
    assert stall.best_frame is sharp.best_frame
    np.testing.assert_array_equal(stall.best_box, sharp.best_box)


def test_a_lone_sighting_comes_back_unchanged() -> None:
    alone = piece(5, 0.0, 30.0)
    assert merge([alone, piece(6, 10.0, 20.0, box=(120, 10, 150, 40))])[0] is alone


def test_a_piece_still_open_leaves_the_object_open() -> None:
    open_piece = replace(piece(2, 60.0, 100.0), ended=False)
    [stall] = merge([piece(1, 0.0, 50.0), open_piece])
    assert not stall.ended


def test_sightings_from_a_builder_carry_the_confidences_their_score_was_taken_from() -> None:
    builder = SightingBuilder(SightingSettings(class_names=NAMES, top_k=3))
    for index, confidence in enumerate([0.3, 0.6, 0.2, 0.5, 0.4]):
        tracked = make_detections([STALL], confidence=confidence, track_id=[1])
        builder.update(make_frame(index), tracked)
    [sighting] = builder.flush()
    assert sighting.top_confidences == pytest.approx((0.6, 0.5, 0.4))
    assert sighting.score == pytest.approx(0.5)


@pytest.mark.parametrize(
    "changes",
    [
        {"max_gap_s": -1.0},
        {"long_gap_s": float("nan")},
        {"min_coverage": 1.5},
        {"min_iou": 0.0},
        {"top_k": 0},
        {"same_object": [("a", "b"), ("b", "c")]},
    ],
)
def test_bad_settings_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        StationarySettings(**changes)  # type: ignore[arg-type]


def test_nothing_in_nothing_out() -> None:
    assert merge([]) == []


def test_a_twin_track_of_the_object_adds_only_the_frames_after_the_time_already_covered() -> None:
    # Two tracks on one stall at once (0-100 s and 50-150 s, 2 fps): the object was seen in 301 frames, not 402.
    [stall] = merge([piece(1, 0.0, 100.0), piece(2, 50.0, 150.0)])
    assert (stall.first_time, stall.last_time, stall.frames_seen) == (0.0, 150.0, 201 + 100)


@pytest.mark.parametrize(
    ("first", "last", "box", "folded"),
    [
        (62.0, 290.0, (60, 50, 80, 90), True),  # inside the stall, there while it is: an ad on it, or goods it hides
        (0.0, 290.0, (60, 50, 80, 90), False),  # there before the stall came: an object of its own
        (62.0, 290.0, (90, 50, 130, 90), False),  # mostly outside the stall's box
    ],
)
def test_a_smaller_object_that_comes_and_goes_with_a_stall_inside_its_box_is_part_of_it(
    first: float, last: float, box: Sequence[float], folded: bool
) -> None:
    stall = piece(1, 60.0, 300.0, confidences=(0.6,))
    inside = piece(2, first, last, box=box, class_name="banner", confidences=(0.9,))
    merged = merge([stall, inside])
    if folded:
        assert merged == [stall]  # no frames, confidences or class taken from the part
    else:
        assert len(merged) == 2


def test_pieces_whose_best_views_differ_but_which_usually_stand_in_one_place_merge() -> None:
    # The best view of the first track is a frame where a passer-by stretched its box; where it usually is, and
    # where the second track's boxes are, is the stall.
    stretched = piece(1, 0.0, 100.0, box=(30, 30, 110, 160), typical=STALL)
    second = piece(2, 150.0, 290.0, box=(41, 41, 101, 99), typical=(41, 41, 101, 99))
    [stall] = merge([stretched, second])
    assert (stall.first_time, stall.last_time) == (0.0, 290.0)
    assert stall.typical_box is not None
    np.testing.assert_allclose(stall.typical_box, (41, 41, 101, 99))  # the longest piece's
    assert len(merge([replace(stretched, typical_box=None), second])) == 2  # by best boxes alone: two objects


@pytest.mark.parametrize(
    ("pieces", "objects"),
    [
        # Lost for 130 s, seen 163 s before and 68 s after at the same spot: seen 231 of 361 s, it stayed.
        ([(0.0, 163.0), (293.0, 361.0)], 1),
        # Two visits of 60 s, 200 s apart: seen 120 of 320 s, two objects (together they would pass a 180 s dwell).
        ([(0.0, 60.0), (260.0, 320.0)], 2),
        # A gap beyond long_gap_s is never bridged, however long the object was seen.
        ([(0.0, 400.0), (720.0, 1000.0)], 2),
        # Coverage counts the time seen across all pieces, not only the last one.
        ([(0.0, 100.0), (110.0, 200.0), (350.0, 400.0)], 1),
    ],
)
def test_a_longer_gap_is_bridged_only_when_the_object_was_seen_most_of_the_time(
    pieces: list[tuple[float, float]], objects: int
) -> None:
    sightings = [piece(index, first, last) for index, (first, last) in enumerate(pieces, start=1)]
    assert len(merge(sightings)) == objects  # defaults: max_gap_s 120, long_gap_s 300, min_coverage 0.5


@pytest.mark.parametrize(("first", "folded"), [(62.0, True), (120.0, False)])
def test_a_second_box_of_the_same_class_inside_the_stall_that_comes_with_it_is_the_stall(
    first: float, folded: bool
) -> None:
    # The detector's second box on the stall, around its lower half; its best view caught a neighbour further right.
    stall = piece(1, 60.0, 300.0, confidences=(0.6,), typical=STALL)
    lower_half = piece(2, first, 300.0, box=(120, 40, 160, 100), typical=(50, 70, 90, 100))
    merged = merge([stall, lower_half])
    if folded:
        [one] = merged
        assert (one.track_id, one.first_time, one.last_time) == (1, 60.0, 300.0)
        np.testing.assert_array_equal(one.best_box, stall.best_box)  # the view shows the stall where it stands
    else:
        assert len(merged) == 2  # set up a minute later: a second stall in front of the first
