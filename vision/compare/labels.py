"""Using detector output on a comparison: drop changes passers-by explain, label the rest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from vision.compare.types import ChangeKind
from vision.detections import Detections

BoxArray = npt.NDArray[np.float32]


@dataclass(frozen=True, eq=False)
class LabelledBoxes:
    """Boxes in current-image pixels with a class name and score each (the columns agree in length)."""

    xyxy: BoxArray
    names: tuple[str, ...]
    confidence: npt.NDArray[np.float32]

    @classmethod
    def none(cls) -> LabelledBoxes:
        """No boxes."""
        return cls(np.zeros((0, 4), np.float32), (), np.zeros(0, np.float32))


def split_detections(
    detections: Detections | None,
    names: Sequence[str],
    transient_classes: Sequence[str],
    to_current: npt.NDArray[np.float64] | None = None,
) -> tuple[BoxArray, LabelledBoxes]:
    """Split detections into transient boxes (to ignore) and labelled boxes (to explain changes).

    Args:
        detections: Detector output, or ``None``.
        names: Class names indexed by ``class_id``; ids beyond it are called ``class_<id>``.
        transient_classes: Names of passing things (people, vehicles), compared case-insensitively.
        to_current: Homography taking the detections' image (the reference) to current pixels, if not
            already in current pixels.

    Returns:
        ``(transient_xyxy, labelled)``, both in current-image pixels.
    """
    if detections is None or len(detections) == 0:
        return np.zeros((0, 4), np.float32), LabelledBoxes.none()
    boxes = detections.xyxy if to_current is None else map_boxes(detections.xyxy, to_current)
    class_names = tuple(names[i] if 0 <= i < len(names) else f"class_{i}" for i in detections.class_id.tolist())
    transient_set = {name.lower() for name in transient_classes}
    transient = np.array([name.lower() in transient_set for name in class_names], bool)
    keep = ~transient
    labelled = LabelledBoxes(
        boxes[keep],
        tuple(name for name, kept in zip(class_names, keep, strict=True) if kept),
        detections.confidence[keep],
    )
    return boxes[transient], labelled


def map_boxes(xyxy: BoxArray, homography: npt.NDArray[np.float64]) -> BoxArray:
    """Map boxes through a homography; each result is the bounding box of the four mapped corners."""
    if len(xyxy) == 0:
        return np.zeros((0, 4), np.float32)
    x1, y1, x2, y2 = xyxy.T
    corners = np.stack([np.stack([x1, y1], 1), np.stack([x2, y1], 1), np.stack([x2, y2], 1), np.stack([x1, y2], 1)], 1)
    mapped = cv2.perspectiveTransform(corners.reshape(-1, 1, 2).astype(np.float64), homography).reshape(-1, 4, 2)
    return np.concatenate([mapped.min(axis=1), mapped.max(axis=1)], axis=1).astype(np.float32)


def box_canvas(xyxy: BoxArray, shape: tuple[int, int], scale: float) -> npt.NDArray[np.bool_]:
    """Paint boxes (current pixels) into a boolean image of ``shape`` at ``scale`` (working / current)."""
    canvas = np.zeros(shape, np.uint8)
    for x1, y1, x2, y2 in np.asarray(xyxy, np.float64) * scale:
        cv2.rectangle(canvas, (int(x1), int(y1)), (int(np.ceil(x2)), int(np.ceil(y2))), 1, thickness=cv2.FILLED)
    return canvas.astype(bool)


def explain(
    box: tuple[int, int, int, int], current: LabelledBoxes, reference: LabelledBoxes, min_overlap: float
) -> tuple[ChangeKind | None, str | None]:
    """Name the detected object behind a changed region, and say which image it is in.

    Args:
        box: The region's box in current pixels.
        current: Labelled detections of the current image.
        reference: Labelled detections of the reference, in current pixels.
        min_overlap: Intersection over the smaller of the two boxes that counts as the same place.

    Returns:
        ``(kind, label)``: ``("new", name)`` when only the current image has that object there,
        ``("gone", name)`` when only the reference has it, ``(None, name)`` when both do, and
        ``(None, None)`` when no detection explains the region.
    """
    now = _best_match(box, current, min_overlap)
    before = _best_match(box, reference, min_overlap)
    if now is None and before is None:
        return None, None
    if before is None:
        return "new", now
    if now is None:
        return "gone", before
    return (None, now) if now == before else ("new", now)


def _best_match(box: tuple[int, int, int, int], boxes: LabelledBoxes, min_overlap: float) -> str | None:
    if len(boxes.names) == 0:
        return None
    region = np.asarray(box, np.float32)
    top_left = np.maximum(boxes.xyxy[:, :2], region[:2])
    bottom_right = np.minimum(boxes.xyxy[:, 2:], region[2:])
    intersection = np.clip(bottom_right - top_left, 0, None).prod(axis=1)
    areas = (boxes.xyxy[:, 2:] - boxes.xyxy[:, :2]).prod(axis=1)
    smaller = np.maximum(np.minimum(areas, (region[2:] - region[:2]).prod()), 1e-6)
    overlap = intersection / smaller
    candidates = overlap >= min_overlap
    if not candidates.any():
        return None
    best = int(np.argmax(np.where(candidates, overlap * boxes.confidence, -1.0)))
    return boxes.names[best]
