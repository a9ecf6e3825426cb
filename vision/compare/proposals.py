"""Candidate regions: the change map's components at several thresholds and closings, for a scorer to choose.

One threshold cannot fit every object: a low one merges an object with its neighbours and the noise
around passers-by, a high one breaks a patchy object (a removed shed revealing a textured wall) into
pieces. Cutting the map at several levels, with and without closing gaps (and with the transient boxes
cut out), gives a couple of hundred candidates of which one usually fits each object
(:mod:`vision.compare.scorer` picks them).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

# Loose on purpose: OpenCV's stubs type every array it returns as "integer or floating".
FloatImage = npt.NDArray[Any]
BoolImage = npt.NDArray[np.bool_]

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
CLOSINGS = (0, 3, 6)
# Fewest working pixels a candidate's component needs.
_MIN_PIXELS = 20
# IoU at which two cuts are taken to have found the same box.
_SAME_BOX = 0.7


@dataclass(frozen=True, eq=False)
class Proposal:
    """A candidate changed region at the working resolution.

    Attributes:
        box: ``(x1, y1, x2, y2)`` working pixels, x2/y2 exclusive.
        mask: Box-local boolean mask of the component.
        threshold: Change score the map was cut at.
        closing: Radius of the closing that joined its pieces (0: none).
        cut: Whether transient boxes were cut out of the map first (whenever there are any).
        stability: Share of all the cuts that found (nearly) this box: an object's outline holds over a
            range of thresholds, a chance blob's does not.
    """

    box: tuple[int, int, int, int]
    mask: BoolImage
    threshold: float
    closing: int
    cut: bool
    stability: float = 0.0


def propose(extent: FloatImage, keep: BoolImage, transient: BoolImage) -> list[Proposal]:
    """Candidate regions of a change map; a box found by several cuts is kept once (the first).

    Args:
        extent: ``(h, w)`` change scores in ``[0, 1]``.
        keep: Pixels that may change (valid overlap, outside the ignore mask).
        transient: Pixels under passers-by's boxes.

    Returns:
        The candidates, lowest threshold first.
    """
    proposals: list[Proposal] = []
    seen: set[tuple[int, int, int, int]] = set()
    found: list[tuple[int, int, int, int]] = []
    # With passers-by known, they are cut out first, so none merges with a real change next to it.
    cut = bool(transient.any())
    allowed = keep & ~transient if cut else keep
    for threshold in THRESHOLDS:
        above = ((extent > threshold) & allowed).astype(np.uint8)
        opened = cv2.morphologyEx(above, cv2.MORPH_OPEN, _disk(1))
        for closing in CLOSINGS:
            joined = cv2.morphologyEx(opened, cv2.MORPH_CLOSE, _disk(closing)) if closing else opened
            for box, mask in _components(joined):
                found.append(box)
                if box not in seen:
                    seen.add(box)
                    proposals.append(Proposal(box, mask, threshold, closing, cut))
    if not proposals:
        return proposals
    cuts = len(THRESHOLDS) * len(CLOSINGS)
    agreeing = (_iou_matrix(np.asarray([p.box for p in proposals]), np.asarray(found)) >= _SAME_BOX).sum(axis=1)
    return [replace(p, stability=float(n) / cuts) for p, n in zip(proposals, agreeing, strict=True)]


def _iou_matrix(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    width = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    height = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = (width * height).astype(np.float64)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1)


def _components(binary: npt.NDArray[Any]) -> list[tuple[tuple[int, int, int, int], BoolImage]]:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    found = []
    for index in range(1, count):
        x, y, width, height, area = (int(v) for v in stats[index])
        if area >= _MIN_PIXELS:
            mask = labels[y : y + height, x : x + width] == index
            found.append(((x, y, x + width, y + height), mask))
    return found


def _disk(radius: int) -> npt.NDArray[Any]:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
