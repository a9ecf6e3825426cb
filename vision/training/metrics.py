"""Detection metrics in numpy: matching, COCO-style AP, and precision/recall at the best-F1 confidence.

Matching, precision and recall follow ultralytics' validator (8.4) exactly, AP follows COCO:

- Matching: predictions in descending confidence each claim the unclaimed ground-truth box of the same class
  with the highest IoU, if that IoU reaches the threshold; done separately at each of the ten IoU thresholds
  0.50, 0.55, ..., 0.95.
- AP: the COCO definition (as pycocotools): the precision envelope sampled at the 101 recall thresholds
  0, 0.01, ..., 1 and averaged. AP50 is AP at IoU 0.50; AP50-95 is the mean over the ten thresholds. ultralytics
  differs slightly: it integrates the sampled envelope with the trapezoid rule between sentinels (precision 1 at
  recall 0, 0 at recall 1), so a perfect detector scores 0.995 there and 1.0 here; other curves differ by < 0.01.
- Precision and recall: read off each class's precision- and recall-vs-confidence curves (1000 points) at ONE
  confidence shared by all classes: the one where the class-mean F1, smoothed with a box filter 10% wide, is
  highest. They describe the model at its best operating point, not at the evaluation's low ``conf``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from vision.detections import box_iou

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
_RECALL_POINTS = np.linspace(0.0, 1.0, 101)
_CURVE_POINTS = np.linspace(0.0, 1.0, 1000)

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ClassMetrics:
    """The metrics of one class.

    Attributes:
        precision: Precision at the best-F1 confidence.
        recall: Recall at the best-F1 confidence.
        ap50: Average precision at IoU 0.50.
        ap50_95: Average precision averaged over IoU 0.50:0.95.
        instances: Ground-truth boxes of the class.
    """

    precision: float
    recall: float
    ap50: float
    ap50_95: float
    instances: int


@dataclass(frozen=True)
class PerClassMetrics:
    """Metrics of every class that has ground truth, and the confidence P and R were read at."""

    classes: dict[int, ClassMetrics]
    best_f1_conf: float


def match_predictions(
    pred_xyxy: npt.ArrayLike,
    pred_conf: npt.ArrayLike,
    pred_cls: npt.ArrayLike,
    true_xyxy: npt.ArrayLike,
    true_cls: npt.ArrayLike,
    thresholds: npt.ArrayLike = IOU_THRESHOLDS,
) -> BoolArray:
    """Mark which predictions of one image are true positives at each IoU threshold.

    Args:
        pred_xyxy: ``(N, 4)`` predicted boxes.
        pred_conf: ``(N,)`` their confidences.
        pred_cls: ``(N,)`` their class ids (in the same numbering as ``true_cls``).
        true_xyxy: ``(M, 4)`` ground-truth boxes.
        true_cls: ``(M,)`` their class ids.
        thresholds: ``(T,)`` IoU thresholds.

    Returns:
        ``(N, T)`` booleans in the input order of the predictions.
    """
    thresholds = np.asarray(thresholds, np.float64).reshape(-1)
    pred_cls = np.asarray(pred_cls).reshape(-1)
    true_cls = np.asarray(true_cls).reshape(-1)
    correct = np.zeros((len(pred_cls), len(thresholds)), bool)
    if not len(pred_cls) or not len(true_cls):
        return correct
    order = np.argsort(-np.asarray(pred_conf, np.float64).reshape(-1), kind="stable")
    iou = box_iou(np.asarray(true_xyxy), np.asarray(pred_xyxy)).astype(np.float64)  # (M, N)
    iou = iou * (true_cls[:, None] == pred_cls[None, :])
    claimed = np.zeros((len(true_cls), len(thresholds)), bool)
    columns = np.arange(len(thresholds))
    for j in order:
        if iou[:, j].max() < thresholds.min():
            continue
        available = np.where(claimed, 0.0, iou[:, j, None])  # (M, T): IoU with each unclaimed target
        best = available.argmax(axis=0)
        hit = available[best, columns] >= thresholds
        correct[j] = hit
        claimed[best, columns] |= hit
    return correct


def compute_ap(recall: npt.ArrayLike, precision: npt.ArrayLike) -> float:
    """Return the COCO 101-point interpolated average precision of one precision-recall curve.

    At each recall threshold ``r`` in 0, 0.01, ..., 1 the interpolated precision is the highest precision reached
    at any recall >= ``r`` (0 if ``r`` is never reached); AP is their mean, as pycocotools computes it.

    Args:
        recall: Recall after each prediction, in descending confidence order (non-decreasing).
        precision: Precision after each prediction, same order.
    """
    recall = np.asarray(recall, np.float64).reshape(-1)
    precision = np.asarray(precision, np.float64).reshape(-1)
    if not len(recall):
        return 0.0
    envelope = np.flip(np.maximum.accumulate(np.flip(precision)))
    first_reaching = np.searchsorted(recall, _RECALL_POINTS, side="left")
    reached = first_reaching < len(recall)
    sampled = np.where(reached, envelope[np.minimum(first_reaching, len(recall) - 1)], 0.0)
    return float(sampled.mean())


def ap_per_class(
    tp: npt.ArrayLike,
    conf: npt.ArrayLike,
    pred_cls: npt.ArrayLike,
    target_cls: npt.ArrayLike,
    eps: float = 1e-16,
) -> PerClassMetrics:
    """Compute AP, precision and recall for every class that has at least one ground-truth box.

    Args:
        tp: ``(N, T)`` true-positive flags of all predictions of a dataset, from :func:`match_predictions`.
        conf: ``(N,)`` their confidences.
        pred_cls: ``(N,)`` their class ids.
        target_cls: ``(M,)`` the class id of every ground-truth box of the dataset.
        eps: Guards divisions by zero.

    Returns:
        Metrics by class id; P and R at the confidence where the smoothed mean F1 over these classes peaks.
    """
    conf = np.asarray(conf, np.float64).reshape(-1)
    tp = np.asarray(tp, np.float64)
    if tp.ndim == 1:  # a single IoU threshold
        tp = tp[:, None]
    pred_cls = np.asarray(pred_cls).reshape(-1)
    order = np.argsort(-conf, kind="stable")
    tp, conf, pred_cls = tp[order], conf[order], pred_cls[order]
    classes, counts = np.unique(np.asarray(target_cls, np.int64).reshape(-1), return_counts=True)
    ap = np.zeros((len(classes), tp.shape[1]))
    p_curve = np.zeros((len(classes), len(_CURVE_POINTS)))
    r_curve = np.zeros((len(classes), len(_CURVE_POINTS)))
    for row, (class_id, n_true) in enumerate(zip(classes, counts, strict=True)):
        mine = pred_cls == class_id
        if not mine.any():
            continue
        tpc = tp[mine].cumsum(axis=0)
        fpc = (1 - tp[mine]).cumsum(axis=0)
        recall = tpc / (n_true + eps)
        precision = tpc / (tpc + fpc)
        # Curves against confidence; np.interp needs increasing x, hence the negations.
        r_curve[row] = np.interp(-_CURVE_POINTS, -conf[mine], recall[:, 0], left=0)
        p_curve[row] = np.interp(-_CURVE_POINTS, -conf[mine], precision[:, 0], left=1)
        ap[row] = [compute_ap(recall[:, t], precision[:, t]) for t in range(tp.shape[1])]
    f1_curve = 2 * p_curve * r_curve / (p_curve + r_curve + eps)
    best = int(_smooth(f1_curve.mean(axis=0), 0.1).argmax()) if len(classes) else 0
    metrics = {
        int(class_id): ClassMetrics(
            precision=float(p_curve[row, best]),
            recall=float(r_curve[row, best]),
            ap50=float(ap[row, 0]),
            ap50_95=float(ap[row].mean()),
            instances=int(n_true),
        )
        for row, (class_id, n_true) in enumerate(zip(classes, counts, strict=True))
    }
    return PerClassMetrics(metrics, float(_CURVE_POINTS[best]))


class MatchAccumulator:
    """Collects the matches of many images, then computes the dataset's per-class metrics."""

    def __init__(self, thresholds: Sequence[float] = tuple(IOU_THRESHOLDS)) -> None:
        self.thresholds = tuple(thresholds)
        self._tp: list[BoolArray] = []
        self._conf: list[FloatArray] = []
        self._pred_cls: list[IntArray] = []
        self._target_cls: list[IntArray] = []

    def add(
        self,
        pred_xyxy: npt.ArrayLike,
        pred_conf: npt.ArrayLike,
        pred_cls: npt.ArrayLike,
        true_xyxy: npt.ArrayLike,
        true_cls: npt.ArrayLike,
    ) -> None:
        """Match one image's predictions to its ground truth (same class numbering) and keep the result."""
        self._tp.append(match_predictions(pred_xyxy, pred_conf, pred_cls, true_xyxy, true_cls, self.thresholds))
        self._conf.append(np.asarray(pred_conf, np.float64).reshape(-1))
        self._pred_cls.append(np.asarray(pred_cls, np.int64).reshape(-1))
        self._target_cls.append(np.asarray(true_cls, np.int64).reshape(-1))

    def compute(self) -> PerClassMetrics:
        """Return the metrics of everything added so far."""
        n_thresholds = len(self.thresholds)
        return ap_per_class(
            np.concatenate([np.zeros((0, n_thresholds), bool), *self._tp]),
            np.concatenate([np.zeros(0), *self._conf]),
            np.concatenate([np.zeros(0, np.int64), *self._pred_cls]),
            np.concatenate([np.zeros(0, np.int64), *self._target_cls]),
        )


def _smooth(values: FloatArray, fraction: float) -> FloatArray:
    """Box-filter ``values`` with a window ``fraction`` of their length (odd), padding with the end values."""
    width = round(len(values) * fraction * 2) // 2 + 1
    pad = np.ones(width // 2)
    padded = np.concatenate((pad * values[0], values, pad * values[-1]))
    return np.convolve(padded, np.ones(width) / width, mode="valid")
