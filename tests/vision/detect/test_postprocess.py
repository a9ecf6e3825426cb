"""Decoding raw YOLO outputs: NMS, both output layouts, mapping back to the image."""

from __future__ import annotations

import numpy as np
import pytest

from vision.detect.letterbox import Letterbox
from vision.detect.postprocess import (
    Candidates,
    decode_batch,
    decode_classic,
    decode_end2end,
    is_end2end,
    nms,
    to_detections,
)


def test_nms_drops_the_weaker_of_two_overlapping_boxes_of_one_class() -> None:
    boxes = [[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]]

    keep = nms(boxes, [0.8, 0.9, 0.5], [0, 0, 0], iou_threshold=0.5)

    assert keep.tolist() == [1, 2]


def test_nms_keeps_overlapping_boxes_of_different_classes() -> None:
    boxes = [[0, 0, 10, 10], [1, 0, 11, 10]]

    assert sorted(nms(boxes, [0.8, 0.9], [0, 1], iou_threshold=0.5).tolist()) == [0, 1]
    assert nms(boxes, [0.8, 0.9], None, iou_threshold=0.5).tolist() == [1]  # class-agnostic


def test_nms_keeps_a_box_whose_iou_equals_the_threshold() -> None:
    boxes = [[0, 0, 10, 10], [5, 0, 15, 10]]  # IoU exactly 1/3

    assert nms(boxes, [0.9, 0.8], [0, 0], iou_threshold=1 / 3 + 1e-6).tolist() == [0, 1]
    assert nms(boxes, [0.9, 0.8], [0, 0], iou_threshold=0.3).tolist() == [0]


def test_nms_stops_at_max_det_and_handles_no_boxes() -> None:
    boxes = [[i * 20, 0, i * 20 + 10, 10] for i in range(10)]

    assert len(nms(boxes, np.linspace(0.1, 0.9, 10), None, 0.5, max_det=3)) == 3
    assert nms(np.zeros((0, 4)), np.zeros(0), np.zeros(0), 0.5).tolist() == []


def test_class_offset_separates_classes_even_with_negative_coordinates() -> None:
    boxes = [[-100, -100, -10, -10], [10, 10, 100, 100]]  # a class-1 box shifted by the class offset must not hit

    assert sorted(nms(boxes, [0.9, 0.8], [1, 0], 0.1).tolist()) == [0, 1]


def test_nms_matches_torchvision_on_random_boxes() -> None:
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    rng = np.random.default_rng(0)
    corners = rng.uniform(0, 200, (400, 2))
    boxes = np.concatenate([corners, corners + rng.uniform(5, 80, (400, 2))], axis=1).astype(np.float32)
    scores = rng.uniform(0, 1, 400).astype(np.float32)
    classes = rng.integers(0, 3, 400)

    ours = nms(boxes, scores, classes, iou_threshold=0.45)
    theirs = torchvision.ops.batched_nms(
        torch.from_numpy(boxes), torch.from_numpy(scores), torch.from_numpy(classes), 0.45
    )

    assert ours.tolist() == theirs.tolist()


def test_decode_end2end_keeps_rows_above_the_threshold() -> None:
    rows = np.array([[0, 0, 10, 10, 0.9, 3], [5, 5, 20, 20, 0.3, 1], [0, 0, 0, 0, 0.0, 0]], np.float32)

    candidates = decode_end2end(rows, conf=0.25, max_det=300)

    assert candidates.class_id.tolist() == [3, 1]
    np.testing.assert_allclose(candidates.score, [0.9, 0.3])
    assert len(decode_end2end(rows, conf=0.25, max_det=1).score) == 1


def test_decode_classic_converts_centres_picks_best_class_and_suppresses() -> None:
    num_classes = 3
    prediction = np.zeros((4 + num_classes, 4), np.float32)  # 4 anchors
    prediction[:4, 0] = [50, 50, 20, 10]  # cx, cy, w, h
    prediction[:4, 1] = [51, 50, 20, 10]  # nearly the same box
    prediction[:4, 2] = [150, 150, 30, 30]
    prediction[:4, 3] = [10, 10, 4, 4]
    prediction[4:, 0] = [0.1, 0.8, 0.2]
    prediction[4:, 1] = [0.1, 0.7, 0.2]  # same class, lower: suppressed
    prediction[4:, 2] = [0.6, 0.0, 0.0]
    prediction[4:, 3] = [0.1, 0.1, 0.2]  # below the threshold

    candidates = decode_classic(prediction, conf=0.25, iou=0.7, max_det=300)

    np.testing.assert_allclose(candidates.xyxy, [[40, 45, 60, 55], [135, 135, 165, 165]])
    assert candidates.class_id.tolist() == [1, 0]
    np.testing.assert_allclose(candidates.score, [0.8, 0.6])


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ((1, 300, 6), True),
        (("batch", 300, 6), True),
        ((1, 15, 2100), False),  # 11 classes
        ((None, 15, "anchors"), False),
        ((1, 84, 8400), None),  # 80 classes: not this model
        ((1, 300), None),
    ],
)
def test_is_end2end_reads_the_layout_from_the_shape(shape: tuple[object, ...], expected: bool | None) -> None:
    assert is_end2end(shape, 11) is expected  # type: ignore[arg-type]


def test_to_detections_maps_back_and_drops_boxes_only_in_the_padding() -> None:
    letterbox = Letterbox.fit((432, 768), (320, 320))  # padding rows 0..70 and 250..320
    candidates = Candidates(
        xyxy=np.array([[0, 70, 160, 250], [10, 5, 50, 60]], np.float32),
        score=np.array([0.9, 0.8], np.float32),
        class_id=np.array([2, 4]),
    )

    detections = to_detections(candidates, letterbox)

    assert len(detections) == 1
    np.testing.assert_allclose(detections.xyxy[0], [0, 0, 384, 432], atol=1e-3)
    assert detections.class_id.tolist() == [2]


def test_decode_batch_gives_one_result_per_image_and_checks_the_count() -> None:
    boxes = [Letterbox.fit((432, 768), (320, 320)), Letterbox.fit((768, 432), (320, 320))]
    output = np.zeros((2, 300, 6), np.float32)
    output[0, 0] = [100, 100, 200, 200, 0.9, 5]

    results = decode_batch(output, boxes, end2end=True, conf=0.25, iou=0.7, max_det=300)

    assert [len(r) for r in results] == [1, 0]
    with pytest.raises(ValueError, match="2 results for 1 images"):
        decode_batch(output, boxes[:1], end2end=True, conf=0.25, iou=0.7, max_det=300)
