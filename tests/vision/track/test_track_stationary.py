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
    merged = merge([piece(1, 0.0, 50.0), piece(2, 111.0, 200.0)], max_gap_s=60.0)
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
    [{"max_gap_s": -1.0}, {"min_iou": 0.0}, {"top_k": 0}, {"same_object": [("a", "b"), ("b", "c")]}],
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
