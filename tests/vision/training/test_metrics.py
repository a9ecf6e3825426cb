"""Matching and AP against hand-computed cases and against ultralytics' own implementation."""

from __future__ import annotations

import os
from types import ModuleType

import numpy as np
import pytest

from vision.training.metrics import IOU_THRESHOLDS, ap_per_class, compute_ap, match_predictions

BOX = (10.0, 10.0, 50.0, 50.0)


def test_perfect_curve_has_ap_one() -> None:
    assert compute_ap([0.5, 1.0], [1.0, 1.0]) == pytest.approx(1.0)
    # Extra false positives after full recall do not lower it: the envelope takes the best precision.
    assert compute_ap([0.5, 1.0, 1.0], [1.0, 1.0, 2 / 3]) == pytest.approx(1.0)


def test_known_curve_by_hand() -> None:
    # 3 targets; predictions by confidence: TP, FP, TP. Recall 1/3, 1/3, 2/3; precision 1, 1/2, 2/3.
    # Envelope: 1 up to recall 1/3, 2/3 up to recall 2/3, then 0. Sampled at recall 0, .01, ..., 1:
    # 34 points at 1 (0..0.33), 33 at 2/3 (0.34..0.66), 34 at 0; mean: (34 + 22) / 101.
    assert compute_ap([1 / 3, 1 / 3, 2 / 3], [1.0, 0.5, 2 / 3]) == pytest.approx(56 / 101)


def test_empty_curve_has_ap_zero() -> None:
    assert compute_ap([], []) == pytest.approx(0.0)


def test_match_claims_each_target_once_by_confidence() -> None:
    true_xyxy = np.array([BOX])
    # Two predictions on the same target: the more confident one is the hit, the other a duplicate.
    pred = np.array([BOX, BOX])
    correct = match_predictions(pred, [0.3, 0.9], [0, 0], true_xyxy, [0])
    assert correct.shape == (2, 10)
    assert not correct[0].any()
    assert correct[1].all()


def test_match_needs_the_same_class() -> None:
    correct = match_predictions(np.array([BOX]), [0.9], [1], np.array([BOX]), [0])
    assert not correct.any()


def test_match_depends_on_iou_threshold() -> None:
    # IoU of (10,10,50,50) and (10,10,50,40) is 0.75: a hit at 0.50..0.75, a miss above.
    correct = match_predictions(np.array([[10, 10, 50, 40]]), [0.9], [0], np.array([BOX]), [0])
    assert correct[0].tolist() == [t <= 0.75 + 1e-9 for t in IOU_THRESHOLDS]


def test_ap_per_class_known_case() -> None:
    tp = np.array([[True] * 10, [False] * 10, [True] * 10])
    result = ap_per_class(tp, [0.9, 0.8, 0.7], [0, 0, 0], [0, 0, 0])
    metrics = result.classes[0]
    assert metrics.ap50 == pytest.approx(56 / 101)
    assert metrics.ap50_95 == pytest.approx(56 / 101)
    assert metrics.instances == 3


def test_ap_per_class_skips_classes_without_targets_and_zeroes_unpredicted() -> None:
    tp = np.ones((2, 10), bool)
    result = ap_per_class(tp, [0.9, 0.8], [0, 5], [0, 1])  # class 5 has no targets; class 1 no predictions
    assert set(result.classes) == {0, 1}
    assert result.classes[0].ap50 == pytest.approx(1.0)
    assert result.classes[1].ap50 == 0.0
    assert result.classes[1].recall == 0.0


def test_no_predictions_at_all() -> None:
    result = ap_per_class(np.zeros((0, 10), bool), [], [], [0, 0, 1])
    assert result.classes[0].ap50 == 0.0 and result.classes[1].ap50_95 == 0.0
    assert result.classes[0].instances == 2


@pytest.fixture(scope="module")
def ultralytics_metrics() -> ModuleType:
    os.environ.setdefault("YOLO_OFFLINE", "1")
    return pytest.importorskip("ultralytics.utils.metrics")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agrees_with_ultralytics_ap_per_class(ultralytics_metrics: ModuleType, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_pred, n_true = 400, 150
    pred_cls = rng.integers(0, 5, n_pred)
    conf = rng.random(n_pred)
    # Higher confidence -> more likely correct, and correct at fewer thresholds as IoU rises.
    quality = conf + rng.normal(0, 0.3, n_pred)
    tp = quality[:, None] > np.linspace(0.3, 1.2, 10)[None, :]
    target_cls = rng.integers(0, 4, n_true)  # class 4 has predictions but no targets
    ours = ap_per_class(tp, conf, pred_cls, target_cls)
    _, _, p, r, _, ap, classes, *_ = ultralytics_metrics.ap_per_class(tp, conf, pred_cls, target_cls)
    assert sorted(ours.classes) == classes.tolist()
    for row, class_id in enumerate(classes):
        metrics = ours.classes[int(class_id)]
        # AP: COCO's mean of 101 samples vs ultralytics' trapezoid between sentinels (see vision.training.metrics).
        assert metrics.ap50 == pytest.approx(ap[row, 0], abs=0.01)
        assert metrics.ap50_95 == pytest.approx(ap[row].mean(), abs=0.01)
        assert metrics.precision == pytest.approx(p[row], abs=1e-9)
        assert metrics.recall == pytest.approx(r[row], abs=1e-9)


def test_matching_agrees_with_ultralytics_validator(ultralytics_metrics: ModuleType) -> None:
    torch = pytest.importorskip("torch")
    from types import SimpleNamespace

    from ultralytics.models.yolo.detect.val import DetectionValidator

    rng = np.random.default_rng(7)
    true_xyxy = rng.uniform(0, 200, (12, 2)).repeat(2, axis=1) + np.array([0, 0, 30, 30])
    true_xyxy = true_xyxy[:, [0, 2, 1, 3]]
    true_xyxy = np.stack([true_xyxy[:, 0], true_xyxy[:, 2], true_xyxy[:, 1], true_xyxy[:, 3]], axis=1)
    true_cls = rng.integers(0, 3, 12)
    picks = rng.integers(0, 12, 40)
    pred_xyxy = true_xyxy[picks] + rng.normal(0, 4, (40, 4))
    pred_xyxy[:, 2:] = np.maximum(pred_xyxy[:, 2:], pred_xyxy[:, :2] + 1)
    pred_cls = np.where(rng.random(40) < 0.8, true_cls[picks], rng.integers(0, 3, 40))
    conf = np.sort(rng.random(40))[::-1]  # ultralytics expects descending confidence
    ours = match_predictions(pred_xyxy, conf, pred_cls, true_xyxy, true_cls)

    from vision.detections import box_iou

    fake_self = SimpleNamespace(iouv=torch.linspace(0.5, 0.95, 10))
    theirs = DetectionValidator.match_predictions(
        fake_self,  # type: ignore[arg-type]
        torch.from_numpy(pred_cls),
        torch.from_numpy(true_cls),
        torch.from_numpy(box_iou(true_xyxy.astype(np.float32), pred_xyxy.astype(np.float32)).astype(np.float64)),
    ).numpy()
    assert ours.any()
    np.testing.assert_array_equal(ours, theirs)
