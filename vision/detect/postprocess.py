"""Turning raw YOLO output tensors into Detections, for the runtimes that return bare arrays.

Two layouts exist:

- end-to-end (NMS-free, YOLO26's one-to-one head, exported with ``nms=False``): ``(B, max_det, 6)`` rows of
  ``x1, y1, x2, y2, score, class`` in letterboxed pixels, best first;
- classic (one-to-many head): ``(B, 4 + nc, anchors)`` with ``cx, cy, w, h`` then one sigmoid score per class,
  which needs class-aware non-maximum suppression.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from vision.detect.letterbox import Letterbox
from vision.detections import Detections, box_iou

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

MAX_NMS = 30000  # candidates kept for NMS, best first (as ultralytics)


@dataclass(frozen=True)
class Candidates:
    """Boxes of one image in network-input pixels, before mapping back to the image."""

    xyxy: FloatArray
    score: FloatArray
    class_id: IntArray


def nms(
    xyxy: npt.ArrayLike,
    scores: npt.ArrayLike,
    class_id: npt.ArrayLike | None = None,
    iou_threshold: float = 0.7,
    max_det: int | None = None,
) -> IntArray:
    """Greedy non-maximum suppression, per class when ``class_id`` is given.

    A box is dropped when its IoU with a higher-scored kept box of the same class is above ``iou_threshold``.

    Args:
        xyxy: ``(N, 4)`` boxes.
        scores: ``(N,)`` scores.
        class_id: ``(N,)`` classes; ``None`` suppresses across classes.
        iou_threshold: IoU above which the lower-scored box goes.
        max_det: Stop after keeping this many boxes.

    Returns:
        Indices of the kept boxes, highest score first.
    """
    boxes = np.asarray(xyxy, np.float32).reshape(-1, 4)
    score = np.asarray(scores, np.float32).reshape(-1)
    if class_id is not None and len(boxes):
        # Shifting each class into its own region of the plane makes boxes of different classes never overlap:
        # every box lies in [-extent, extent], so a shift of 2 * extent + 1 per class separates them.
        extent = float(np.abs(boxes).max())
        offset = np.asarray(class_id, np.float32).reshape(-1, 1) * (2 * extent + 1)
        boxes = boxes + offset
    order = np.argsort(-score, kind="stable")
    limit = len(order) if max_det is None else max_det
    keep: list[int] = []
    while len(order) and len(keep) < limit:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        order = rest[box_iou(boxes[best], boxes[rest])[0] <= iou_threshold]
    return np.asarray(keep, np.int64)


def decode_end2end(rows: npt.NDArray[np.floating], conf: float, max_det: int) -> Candidates:
    """Read one image's ``(max_det, 6)`` end-to-end rows, keeping scores above ``conf``."""
    rows = np.asarray(rows, np.float32)
    rows = rows[rows[:, 4] > conf][:max_det]
    return Candidates(rows[:, :4], rows[:, 4], rows[:, 5].round().astype(np.int64))


def decode_classic(prediction: npt.NDArray[np.floating], conf: float, iou: float, max_det: int) -> Candidates:
    """Read one image's ``(4 + nc, anchors)`` classic output: best class per anchor, threshold, class-aware NMS."""
    rows = np.asarray(prediction, np.float32).T
    class_scores = rows[:, 4:]
    class_id = class_scores.argmax(axis=1)
    score = class_scores[np.arange(len(rows)), class_id]
    mask = score > conf
    rows, score, class_id = rows[mask], score[mask], class_id[mask]
    if len(rows) > MAX_NMS:
        best = np.argsort(-score, kind="stable")[:MAX_NMS]
        rows, score, class_id = rows[best], score[best], class_id[best]
    half = rows[:, 2:4] / 2
    xyxy = np.concatenate([rows[:, :2] - half, rows[:, :2] + half], axis=1)
    keep = nms(xyxy, score, class_id, iou, max_det)
    return Candidates(xyxy[keep], score[keep], class_id[keep].astype(np.int64))


def is_end2end(output_shape: Sequence[int | str | None], num_classes: int) -> bool | None:
    """Guess the layout from an output shape: True end-to-end, False classic, None if it cannot tell.

    Symbolic (dynamic) dimensions are given as strings or None.
    """
    channels = output_shape[1] if len(output_shape) == 3 else None
    last = output_shape[2] if len(output_shape) == 3 else None
    if channels == 4 + num_classes:
        return False
    if last == 6:
        return True
    return None


def to_detections(candidates: Candidates, letterbox: Letterbox) -> Detections:
    """Map candidates back to the original image; boxes left empty by clipping (only padding) are dropped."""
    xyxy = letterbox.to_image(candidates.xyxy)
    keep = (xyxy[:, 2] > xyxy[:, 0]) & (xyxy[:, 3] > xyxy[:, 1])
    return Detections(xyxy=xyxy[keep], confidence=candidates.score[keep], class_id=candidates.class_id[keep])


def decode_batch(
    output: npt.NDArray[np.floating],
    letterboxes: Sequence[Letterbox],
    *,
    end2end: bool,
    conf: float,
    iou: float,
    max_det: int,
) -> list[Detections]:
    """Decode a batch output of either layout into one Detections per image.

    Args:
        output: ``(B, max_det, 6)`` when ``end2end`` else ``(B, 4 + nc, anchors)``.
        letterboxes: One per image, to map boxes back.
        end2end: Which layout ``output`` has.
        conf: Score threshold (a score must be above it).
        iou: NMS IoU threshold (classic layout only).
        max_det: Most detections kept per image.
    """
    if len(output) != len(letterboxes):
        raise ValueError(f"model returned {len(output)} results for {len(letterboxes)} images")
    results = []
    for prediction, letterbox in zip(output, letterboxes, strict=True):
        if end2end:
            candidates = decode_end2end(prediction, conf, max_det)
        else:
            candidates = decode_classic(prediction, conf, iou, max_det)
        results.append(to_detections(candidates, letterbox))
    return results
