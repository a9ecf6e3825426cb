"""Choosing regions among the candidates: per-candidate features and a small learned scorer.

Each candidate (:mod:`vision.compare.proposals`) is described by about fifty numbers read off the change
maps and the two images: its size, shape and place, how it was cut, how strong and how solid the change
inside is against its surroundings, how much of it lies under passers-by, how much texture and colour
contrast each image has there, and how the two images compare inside it and in a ring around it (the
correlation of their grey levels, the agreement of their gradients, the shift of their mean colour: a
light change keeps these alike inside and around, a new or removed object changes them inside only).
A two-layer perceptron (weights in a small ``.npz``, trained by
:mod:`vision.compare.scorer_train` on generated pairs) predicts from them how well the candidate fits a
real changed object (its expected IoU with one). The best candidates are kept, overlapping ones
suppressed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from vision.compare.proposals import Proposal
from vision.errors import ModelError

FloatImage = npt.NDArray[Any]
BoolImage = npt.NDArray[np.bool_]
Features = npt.NDArray[np.float32]

# Plane order of the integral image.
_EXTENT, _EXTENT_SQ, _EVIDENCE, _STRONG, _SEEDS, _ABOVE, _TRANSIENT, _KEEP = range(8)
_GRAD_CUR, _GRAD_REF = 8, 9
_LAB_CUR, _LAB_REF = 10, 13
_IMAGE_PLANES = 16  # the planes above, stored in one array; the two-image products below are built apart
# Products for the two images' correlation (grey levels) and the agreement of their gradients.
_GREY_CUR, _GREY_REF, _GREY_CUR_SQ, _GREY_REF_SQ, _GREY_CROSS = range(_IMAGE_PLANES, _IMAGE_PLANES + 5)
_GRAD_CROSS, _GRAD_CUR_SQ, _GRAD_REF_SQ = range(21, 24)
# The comparer's usual change thresholds, as fixed reference levels of the features.
_ABOVE_LEVEL, _STRONG_LEVEL, _SEED_RADIUS = 0.45, 0.65, 3
FEATURE_NAMES = (
    "log_width", "log_height", "log_area", "log_aspect", "centre_x", "centre_y", "bottom", "at_border",
    "threshold", "closing", "cut", "fill", "mask_extent", "mask_evidence",
    "extent", "extent_spread", "evidence", "strong", "seeds", "above", "transient", "valid",
    "ring_extent", "ring_evidence", "ring_above", "ring_transient",
    "texture_now", "texture_before", "ring_texture_now", "ring_texture_before",
    "contrast_now_l", "contrast_now_a", "contrast_now_b", "contrast_before_l", "contrast_before_a",
    "contrast_before_b", "pair_extent", "pair_above", "stability", "outline_now", "outline_before",
    "outline_extent", "children", "parents", "split",
    "correlation", "ring_correlation", "gradient_agreement", "ring_gradient_agreement",
    "colour_shift_l", "colour_shift_a", "colour_shift_b", "texture_shift",
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class FeaturePlanes:
    """Summed-area tables of everything the features average over boxes, for one pair.

    Attributes:
        integral: ``(h + 1, w + 1, 4)`` summed-area tables of the planes, four at a time, in plane order.
        extent: The change map (for per-mask averages).
        evidence: The light-explained change map.
        pair: Pair-wide features (mean extent and share above the change level over valid pixels).
    """

    integral: tuple[npt.NDArray[Any], ...]
    extent: FloatImage
    evidence: FloatImage
    pair: tuple[float, float]

    @classmethod
    def of(
        cls,
        reference: npt.NDArray[np.uint8],
        current: npt.NDArray[np.uint8],
        extent: FloatImage,
        evidence: FloatImage,
        keep: BoolImage,
        transient: BoolImage,
    ) -> FeaturePlanes:
        """Build the tables from the aligned pair (working resolution), its change maps and masks."""
        strong = evidence > _STRONG_LEVEL
        disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * _SEED_RADIUS + 1,) * 2)
        seeds = cv2.erode(strong.astype(np.uint8), disk)
        planes = np.empty((*extent.shape, _IMAGE_PLANES), np.float32)
        planes[..., _EXTENT] = extent
        planes[..., _EXTENT_SQ] = extent * extent
        planes[..., _EVIDENCE] = evidence
        planes[..., _STRONG] = strong
        planes[..., _SEEDS] = seeds
        planes[..., _ABOVE] = extent > _ABOVE_LEVEL
        planes[..., _TRANSIENT] = transient
        planes[..., _KEEP] = keep
        greys, gradients = [], []
        for index, image in ((_GRAD_CUR, current), (_GRAD_REF, reference)):
            grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32) / 255
            gradient = cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)
            planes[..., index] = 255 * cv2.magnitude(*gradient)
            greys.append(grey)
            gradients.append(gradient)
        planes[..., _LAB_CUR : _LAB_CUR + 3] = cv2.cvtColor(current, cv2.COLOR_BGR2LAB)
        planes[..., _LAB_REF : _LAB_REF + 3] = cv2.cvtColor(reference, cv2.COLOR_BGR2LAB)
        (grey_cur, grey_ref), ((cur_x, cur_y), (ref_x, ref_y)) = greys, gradients
        groups = [np.ascontiguousarray(planes[..., i : i + 4]) for i in range(0, _IMAGE_PLANES, 4)]
        groups.append(cv2.merge([grey_cur, grey_ref, grey_cur * grey_cur, grey_ref * grey_ref]))
        groups.append(
            cv2.merge([grey_cur * grey_ref, cur_x * ref_x + cur_y * ref_y, cur_x * cur_x + cur_y * cur_y,
                       ref_x * ref_x + ref_y * ref_y])
        )  # fmt: skip
        # OpenCV sums up to four channels at a time, twice as fast as numpy's cumulative sums; the tables
        # stay apart (joining them would copy tens of megabytes).
        tables = [cv2.integral(group, sdepth=cv2.CV_64F) for group in groups]
        valid = max(1, int(keep.sum()))
        pair = (float(extent[keep].sum()) / valid, float((extent[keep] > _ABOVE_LEVEL).sum()) / valid)
        return cls(tuple(tables), extent, evidence, pair)

    def means(self, boxes: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """Mean of every plane over each ``(x1, y1, x2, y2)`` box; ``(N, planes)``."""
        x1, y1, x2, y2 = boxes.T
        area = np.maximum((x2 - x1) * (y2 - y1), 1)[:, None]
        return np.asarray(_box_sums(self.integral, x1, y1, x2, y2) / area, np.float64)

    def band_means(self, boxes: npt.NDArray[np.int64], width: int = 2) -> npt.NDArray[np.float64]:
        """Mean of every plane over a band ``width`` pixels either side of each box's outline."""
        height, image_width = self.extent.shape
        x1, y1, x2, y2 = boxes.T
        outer = _box_sums(
            self.integral,
            np.maximum(0, x1 - width),
            np.maximum(0, y1 - width),
            np.minimum(image_width, x2 + width),
            np.minimum(height, y2 + width),
        )
        ix1, iy1 = np.minimum(x1 + width, x2), np.minimum(y1 + width, y2)
        ix2, iy2 = np.maximum(x2 - width, ix1), np.maximum(y2 - width, iy1)
        inner = _box_sums(self.integral, ix1, iy1, ix2, iy2)
        outer_area = (np.minimum(image_width, x2 + width) - np.maximum(0, x1 - width)) * (
            np.minimum(height, y2 + width) - np.maximum(0, y1 - width)
        )
        area = np.maximum(outer_area - (ix2 - ix1) * (iy2 - iy1), 1)[:, None]
        return np.asarray((outer - inner) / area, np.float64)

    def ring_means(self, boxes: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """Mean of every plane over a ring around each box (half the box's geometric size wide)."""
        height, width = self.extent.shape
        x1, y1, x2, y2 = boxes.T
        reach = np.maximum(4, (0.5 * np.sqrt((x2 - x1) * (y2 - y1))).astype(np.int64))
        outer = np.stack(
            [np.maximum(0, x1 - reach), np.maximum(0, y1 - reach), np.minimum(width, x2 + reach),
             np.minimum(height, y2 + reach)], 1
        )  # fmt: skip
        ox1, oy1, ox2, oy2 = outer.T
        outer_sums = _box_sums(self.integral, ox1, oy1, ox2, oy2)
        inner_sums = _box_sums(self.integral, x1, y1, x2, y2)
        area = np.maximum((ox2 - ox1) * (oy2 - oy1) - (x2 - x1) * (y2 - y1), 1)[:, None]
        return np.asarray((outer_sums - inner_sums) / area, np.float64)


def _box_sums(
    tables: tuple[npt.NDArray[Any], ...],
    x1: npt.NDArray[np.int64],
    y1: npt.NDArray[np.int64],
    x2: npt.NDArray[np.int64],
    y2: npt.NDArray[np.int64],
) -> npt.NDArray[np.float64]:
    """Sums of every plane over each box, ``(N, planes)``."""
    return np.concatenate(
        [np.asarray(t[y2, x2] - t[y1, x2] - t[y2, x1] + t[y1, x1], np.float64) for t in tables], axis=1
    )


def region_features(proposals: list[Proposal], planes: FeaturePlanes) -> Features:
    """The ``(N, len(FEATURE_NAMES))`` features of the candidates."""
    if not proposals:
        return np.zeros((0, len(FEATURE_NAMES)), np.float32)
    height, width = planes.extent.shape
    boxes = np.asarray([p.box for p in proposals], np.int64)
    x1, y1, x2, y2 = boxes.T.astype(np.float64)
    box_w, box_h = x2 - x1, y2 - y1
    inside, ring, band = planes.means(boxes), planes.ring_means(boxes), planes.band_means(boxes)
    mask_extent, mask_evidence = np.empty(len(proposals)), np.empty(len(proposals))
    for index, proposal in enumerate(proposals):
        bx1, by1, bx2, by2 = proposal.box
        mask_extent[index] = planes.extent[by1:by2, bx1:bx2][proposal.mask].mean()
        mask_evidence[index] = planes.evidence[by1:by2, bx1:bx2][proposal.mask].max()
    fill = np.asarray([p.mask.sum() for p in proposals]) / np.maximum(box_w * box_h, 1)
    spread = np.sqrt(np.maximum(inside[:, _EXTENT_SQ] - inside[:, _EXTENT] ** 2, 0))
    at_border = (x1 <= 0) | (y1 <= 0) | (x2 >= width) | (y2 >= height)
    columns = [
        np.log(box_w), np.log(box_h), np.log(box_w * box_h / (width * height)), np.log(box_w / box_h),
        (x1 + x2) / 2 / width, (y1 + y2) / 2 / height, y2 / height, at_border,
        [p.threshold for p in proposals], [p.closing / 6 for p in proposals], [p.cut for p in proposals], fill,
        mask_extent, mask_evidence,
        inside[:, _EXTENT], spread, inside[:, _EVIDENCE], inside[:, _STRONG], inside[:, _SEEDS], inside[:, _ABOVE],
        inside[:, _TRANSIENT], inside[:, _KEEP],
        ring[:, _EXTENT], ring[:, _EVIDENCE], ring[:, _ABOVE], ring[:, _TRANSIENT],
        np.log1p(inside[:, _GRAD_CUR]), np.log1p(inside[:, _GRAD_REF]),
        np.log1p(ring[:, _GRAD_CUR]), np.log1p(ring[:, _GRAD_REF]),
        *(np.abs(inside[:, _LAB_CUR + c] - ring[:, _LAB_CUR + c]) / 64 for c in range(3)),
        *(np.abs(inside[:, _LAB_REF + c] - ring[:, _LAB_REF + c]) / 64 for c in range(3)),
        np.full(len(proposals), planes.pair[0]), np.full(len(proposals), planes.pair[1]),
        [p.stability for p in proposals],
        np.log1p(band[:, _GRAD_CUR]) - np.log1p(0.5 * (inside[:, _GRAD_CUR] + ring[:, _GRAD_CUR])),
        np.log1p(band[:, _GRAD_REF]) - np.log1p(0.5 * (inside[:, _GRAD_REF] + ring[:, _GRAD_REF])),
        band[:, _EXTENT] - 0.5 * (inside[:, _EXTENT] + ring[:, _EXTENT]),
        *_nesting(boxes),
        [p.split for p in proposals],
        _correlation(inside), _correlation(ring), _agreement(inside), _agreement(ring),
        *(np.abs(_colour_shift(inside, c) - _colour_shift(ring, c)) / 64 for c in range(3)),
        np.log1p(inside[:, _GRAD_CUR]) - np.log1p(inside[:, _GRAD_REF])
        - np.log1p(ring[:, _GRAD_CUR]) + np.log1p(ring[:, _GRAD_REF]),
    ]  # fmt: skip
    return np.stack([np.asarray(c, np.float64) for c in columns], 1).astype(np.float32)


def _correlation(means: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Correlation of the two images' grey levels over each area (1: the same up to light, 0: unrelated);
    0 where either image is flat."""
    cross = means[:, _GREY_CROSS] - means[:, _GREY_CUR] * means[:, _GREY_REF]
    var_cur = np.maximum(means[:, _GREY_CUR_SQ] - means[:, _GREY_CUR] ** 2, 0)
    var_ref = np.maximum(means[:, _GREY_REF_SQ] - means[:, _GREY_REF] ** 2, 0)
    return np.asarray(cross / np.sqrt(var_cur * var_ref + 1e-6), np.float64)


def _agreement(means: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """How well the two images' gradients agree in direction and strength over each area (-1..1)."""
    cross = means[:, _GRAD_CROSS]
    return np.asarray(cross / np.sqrt(means[:, _GRAD_CUR_SQ] * means[:, _GRAD_REF_SQ] + 1e-6), np.float64)


def _colour_shift(means: npt.NDArray[np.float64], channel: int) -> npt.NDArray[np.float64]:
    """Mean Lab difference, current minus reference, of one channel over each area."""
    return np.asarray(means[:, _LAB_CUR + channel] - means[:, _LAB_REF + channel], np.float64)


def _nesting(boxes: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``log(1 + n)`` of the clearly smaller candidates inside each box (pieces it merged), and of the
    clearly larger ones around it (blobs it is a piece of)."""
    x1, y1, x2, y2 = (boxes[:, i].astype(np.float64) for i in range(4))
    width = np.clip(np.minimum(x2[:, None], x2[None]) - np.maximum(x1[:, None], x1[None]), 0, None)
    height = np.clip(np.minimum(y2[:, None], y2[None]) - np.maximum(y1[:, None], y1[None]), 0, None)
    area = (x2 - x1) * (y2 - y1)
    # inside[i, j]: box j lies (90 %) within box i and is under 70 % of its area
    inside = (width * height >= 0.9 * area[None, :]) & (area[None, :] < 0.7 * area[:, None])
    return np.log1p(inside.sum(axis=1)), np.log1p(inside.sum(axis=0))


class RegionScorer:
    """Two small perceptrons over candidate features: how well each fits a real change (its expected IoU
    with one), and whether a fitting one is ``new`` (probability) rather than ``gone``.

    Each head is a few perceptrons trained from different starts, averaged. The ``.npz`` holds, for each
    head ``fit`` and ``kind`` and each member ``m``, ``<head>.<m>.mean`` and ``<head>.<m>.scale`` (feature
    standardisation) and ``<head>.<m>.w1, b1, w2, b2, w3, b3``; and ``names``, the feature names it was
    trained with, checked against :data:`FEATURE_NAMES`.
    """

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        self.weights = read_scorer_weights(path, "region scorer", " (train one with `xiuhua compare-train`)")
        self.heads = {head: members(self.weights, head) for head in ("fit", "kind")}
        if not all(self.heads.values()):
            raise ModelError(str(path), "needs the weights of both heads, fit.<member>.* and kind.<member>.*")
        self.path = path

    def score(self, features: Features) -> npt.NDArray[np.float32]:
        """Expected fit (0..1) of each candidate, ``(N,)``."""
        return ensemble(self.heads["fit"], features)

    def new_probability(self, features: Features) -> npt.NDArray[np.float32]:
        """Probability (0..1) that each candidate, if it is a change, is something new, ``(N,)``."""
        return ensemble(self.heads["kind"], features)


def read_scorer_weights(path: Path, what: str, missing_hint: str = "") -> dict[str, npt.NDArray[Any]]:
    """The arrays of a scorer's ``.npz``, checked to be trained on this version's :data:`FEATURE_NAMES`.

    Args:
        path: The ``.npz`` file.
        what: The kind of scorer, for messages (``region scorer``).
        missing_hint: Added to the message when the file is missing (how to make one).

    Raises:
        ModelError: The file is missing or unreadable, or its ``names`` are other features.
    """
    if not path.is_file():
        raise ModelError(str(path), f"no such {what}{missing_hint}")
    try:
        with np.load(path) as data:
            weights = {key: np.asarray(data[key]) for key in data.files}
    except (OSError, ValueError) as error:
        raise ModelError(str(path), f"not a readable {what} ({error})") from error
    if tuple(str(n) for n in weights.get("names", ())) != FEATURE_NAMES:
        raise ModelError(str(path), "trained on other features than this version computes; retrain it")
    return weights


def members(weights: dict[str, npt.NDArray[Any]], head: str) -> list[dict[str, npt.NDArray[Any]]]:
    """The perceptrons of one head: keys ``<head>.<member>.<name>`` grouped by member."""
    grouped: dict[str, dict[str, npt.NDArray[Any]]] = {}
    for key, value in weights.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == head:
            grouped.setdefault(parts[1], {})[parts[2]] = value
    wanted = {"mean", "scale", "w1", "b1", "w2", "b2", "w3", "b3"}
    return [grouped[m] for m in sorted(grouped, key=int) if wanted <= grouped[m].keys()]


def ensemble(perceptrons: list[dict[str, npt.NDArray[Any]]], features: Features) -> npt.NDArray[np.float32]:
    """Mean output of several perceptrons."""
    return np.asarray(np.mean([forward(weights, features) for weights in perceptrons], axis=0), np.float32)


def forward(weights: dict[str, npt.NDArray[Any]], features: Features) -> npt.NDArray[np.float32]:
    """Run the perceptron: standardise, two ReLU layers, a sigmoid out."""
    hidden = (features - weights["mean"]) / weights["scale"]
    hidden = np.maximum(hidden @ weights["w1"] + weights["b1"], 0.0)
    hidden = np.maximum(hidden @ weights["w2"] + weights["b2"], 0.0)
    logits = (hidden @ weights["w3"] + weights["b3"])[:, 0]
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(logits, -60.0, 60.0))), np.float32)


def select(
    proposals: list[Proposal],
    scores: npt.NDArray[np.float32],
    threshold: float,
    overlap: float,
    *,
    transient: BoolImage | None = None,
    transient_cover: float = 0.5,
) -> list[tuple[Proposal, float]]:
    """Keep the best candidates: highest score first, dropping any that overlaps a kept one.

    Two boxes overlap when their intersection covers ``overlap`` of the smaller one: a part of a kept
    object is not another object, nor is a larger box around it. With ``transient`` (pixels under
    passers-by's boxes), a candidate that shares pixels with kept ones and whose other pixels lie at least
    ``transient_cover`` under passers-by is dropped too: it is a kept object merged with a passer-by next
    to it (a candidate cut from the map with the passers-by left in), and adds nothing else.
    """
    kept: list[tuple[Proposal, float]] = []
    covered = None if transient is None else np.zeros(transient.shape, bool)
    for index in np.argsort(-scores):
        if scores[index] < threshold:
            break
        candidate = proposals[int(index)]
        if any(_overlap(candidate.box, other.box) >= overlap for other, _ in kept):
            continue
        if transient is not None and covered is not None:
            x1, y1, x2, y2 = candidate.box
            shared = candidate.mask & covered[y1:y2, x1:x2]
            added = candidate.mask & ~shared
            if shared.any() and (added & transient[y1:y2, x1:x2]).sum() >= transient_cover * max(1, added.sum()):
                continue
            covered[y1:y2, x1:x2] |= candidate.mask
        kept.append((candidate, float(scores[index])))
    return kept


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return width * height / max(smaller, 1)
