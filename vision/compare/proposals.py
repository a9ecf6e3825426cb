"""Candidate regions: the change map's components at several thresholds and closings, for a scorer to choose.

One threshold cannot fit every object: a low one merges an object with its neighbours and the noise
around passers-by, a high one breaks a patchy object (a removed shed revealing a textured wall) into
pieces. Cutting the map at several levels, with and without closing gaps, gives a couple of hundred
candidates of which one usually fits each object (:mod:`vision.compare.scorer` picks them).

Two more kinds of cut reach objects those miss: with passers-by known, the map is cut both with their
boxes cut out (so none merges with a real change next to it) and as it is (so an object a passer-by
stands in front of is not cut away with them); and blobs that touch (a new pile in front of a removed
shed) are split between their seeds, the points farthest from the blob's edge: each pixel goes to the
nearest seed.
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
# Thresholds whose blobs are also split between their seeds (points farthest from the blob's edge).
SPLIT_THRESHOLDS = (0.3, 0.5)
# Side of the window in which a split's seed is the farthest point from the blob's edge, and the
# least distance (working pixels) a seed needs: thinner necks do not split a blob.
_SPLIT_WINDOW = 7
_SPLIT_DEPTH = 2.0
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
        cut: Whether transient boxes were cut out of the map first.
        stability: Share of the cuts (of the same pass, with or without transient boxes) that found
            (nearly) this box: an object's outline holds over a range of thresholds, a chance blob's does not.
        split: Whether it is a piece of a blob split between its seeds.
    """

    box: tuple[int, int, int, int]
    mask: BoolImage
    threshold: float
    closing: int
    cut: bool
    stability: float = 0.0
    split: bool = False


def propose(extent: FloatImage, keep: BoolImage, transient: BoolImage) -> list[Proposal]:
    """Candidate regions of a change map; a box found by several cuts is kept once (the first).

    Args:
        extent: ``(h, w)`` change scores in ``[0, 1]``.
        keep: Pixels that may change (valid overlap, outside the ignore mask).
        transient: Pixels under passers-by's boxes.

    Returns:
        The candidates: with passers-by cut out first (when there are any), then of the whole map; in
        each pass lowest threshold first, then the split pieces.
    """
    proposals: list[Proposal] = []
    seen: set[tuple[int, int, int, int]] = set()
    passes = [(keep & ~transient, True), (keep, False)] if transient.any() else [(keep, False)]
    for allowed, cut in passes:
        found: list[tuple[int, int, int, int]] = []
        fresh: list[Proposal] = []
        for threshold in THRESHOLDS:
            opened = _opened(extent, allowed, threshold)
            for closing in CLOSINGS:
                joined = cv2.morphologyEx(opened, cv2.MORPH_CLOSE, _disk(closing)) if closing else opened
                for box, mask in _components(joined):
                    found.append(box)
                    if box not in seen:
                        seen.add(box)
                        fresh.append(Proposal(box, mask, threshold, closing, cut))
        for threshold in SPLIT_THRESHOLDS:
            for box, mask in _split(_opened(extent, allowed, threshold)):
                if box not in seen:
                    seen.add(box)
                    fresh.append(Proposal(box, mask, threshold, 0, cut, split=True))
        proposals.extend(_with_stability(fresh, found))
    return proposals


def _opened(extent: FloatImage, allowed: BoolImage, threshold: float) -> npt.NDArray[np.uint8]:
    above = ((extent > threshold) & allowed).astype(np.uint8)
    return np.asarray(cv2.morphologyEx(above, cv2.MORPH_OPEN, _disk(1)), np.uint8)


def _with_stability(proposals: list[Proposal], found: list[tuple[int, int, int, int]]) -> list[Proposal]:
    if not proposals:
        return proposals
    cuts = len(THRESHOLDS) * len(CLOSINGS)
    agreeing = (_iou_matrix(np.asarray([p.box for p in proposals]), np.asarray(found)) >= _SAME_BOX).sum(axis=1)
    return [replace(p, stability=float(n) / cuts) for p, n in zip(proposals, agreeing, strict=True)]


def _split(binary: npt.NDArray[np.uint8]) -> list[tuple[tuple[int, int, int, int], BoolImage]]:
    """Pieces of the blobs that have several seeds (points farthest from the blob's edge within a
    window): each pixel goes to the nearest seed of its own blob."""
    distance = cv2.distanceTransform(binary, cv2.DIST_L2, 3)
    window = np.ones((_SPLIT_WINDOW, _SPLIT_WINDOW), np.uint8)
    peaks = (distance >= cv2.dilate(distance, window)) & (distance >= _SPLIT_DEPTH)
    count, seeds = cv2.connectedComponents(peaks.astype(np.uint8), connectivity=8)
    if count <= 2:
        return []
    blob_count, blobs = cv2.connectedComponents(binary, connectivity=8)
    seed_blob = np.zeros(count, np.int64)
    seed_blob[seeds[peaks]] = blobs[peaks]  # a seed lies inside one blob
    seeds_per_blob = np.bincount(seed_blob[1:], minlength=blob_count)
    # Labels of the nearest non-zero pixel of the inverted image: of the nearest seed.
    _, nearest = cv2.distanceTransformWithLabels(
        (~peaks).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_CCOMP
    )
    # The labels number the seeds' components in their own order: map each back to its seed.
    to_seed = np.zeros(int(nearest.max()) + 1, np.int64)
    to_seed[nearest[peaks]] = seeds[peaks]
    owner = to_seed[nearest]
    pieces = np.where((binary > 0) & (seed_blob[owner] == blobs) & (seeds_per_blob[blobs] >= 2), owner, 0)
    return _components_of_labels(pieces.astype(np.int32))


def _components_of_labels(labels: npt.NDArray[np.int32]) -> list[tuple[tuple[int, int, int, int], BoolImage]]:
    """Box and box-local mask of every labelled piece (label > 0) of at least ``_MIN_PIXELS`` pixels."""
    ys, xs = np.nonzero(labels)
    if not len(xs):
        return []
    values = labels[ys, xs]
    order = np.argsort(values, kind="stable")
    values, ys, xs = values[order], ys[order], xs[order]
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    sizes = np.diff(np.r_[starts, len(values)])
    boxes = zip(
        np.minimum.reduceat(xs, starts),
        np.minimum.reduceat(ys, starts),
        np.maximum.reduceat(xs, starts) + 1,
        np.maximum.reduceat(ys, starts) + 1,
        strict=True,
    )
    found = []
    for value, size, (x1, y1, x2, y2) in zip(values[starts], sizes, boxes, strict=True):
        if size >= _MIN_PIXELS:
            box = (int(x1), int(y1), int(x2), int(y2))
            found.append((box, labels[box[1] : box[3], box[0] : box[2]] == value))
    return found


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
