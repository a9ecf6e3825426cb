"""How well one frame shows one object: sharp, large, confident, not cut by the frame's edge."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

# Crops are resized so their longer side has this many pixels before the Laplacian, so sharpness compares views of
# different sizes at one scale (and a huge crop costs no more than a small one).
SHARPNESS_SIDE = 128


def crop_sharpness(image: npt.NDArray[np.uint8], box: npt.ArrayLike) -> float:
    """Variance of the Laplacian of the box's grey crop, measured at a common scale.

    Args:
        image: ``(H, W, 3)`` BGR pixels.
        box: ``x1, y1, x2, y2`` in the image's pixels; clipped to the image.

    Returns:
        The variance (0 for a box with less than 2 pixels inside the image). Blur lowers it; detail raises it.
    """
    height, width = image.shape[:2]
    x1, y1, x2, y2 = np.asarray(box, dtype=np.float64).reshape(4)
    left, top = max(math.floor(x1), 0), max(math.floor(y1), 0)
    right, bottom = min(math.ceil(x2), width), min(math.ceil(y2), height)
    if right - left < 2 or bottom - top < 2:
        return 0.0
    grey = cv2.cvtColor(image[top:bottom, left:right], cv2.COLOR_BGR2GRAY)
    scale = SHARPNESS_SIDE / max(grey.shape)
    size = (max(round(grey.shape[1] * scale), 2), max(round(grey.shape[0] * scale), 2))
    grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    return float(cv2.Laplacian(grey, cv2.CV_32F).var())


@dataclass(frozen=True)
class ViewWeights:
    """How much each property of a view counts when picking a track's best frame.

    The view's quality is ``confidence ** confidence_weight * area ** size_weight * (1 + sharpness) **
    sharpness_weight``, times ``edge_penalty`` when the box touches the image's edge (the object is probably cut
    off). A product of powers has no units to balance: doubling every box's area changes no ranking.

    Attributes:
        confidence_weight: Exponent of the detection confidence.
        size_weight: Exponent of the box area (``0.5``: the box's side counts linearly).
        sharpness_weight: Exponent of ``1 +`` the crop's variance of Laplacian.
        edge_penalty: Factor in ``(0, 1]`` for a box within ``edge_margin_px`` of the image's edge.
        edge_margin_px: How close to the edge counts as touching it.
    """

    confidence_weight: float = 1.0
    size_weight: float = 0.5
    sharpness_weight: float = 0.5
    edge_penalty: float = 0.5
    edge_margin_px: float = 2.0

    def __post_init__(self) -> None:
        for name in ("confidence_weight", "size_weight", "sharpness_weight", "edge_margin_px"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"ViewWeights.{name} must be a non-negative number, got {value!r}")
        if not 0.0 < self.edge_penalty <= 1.0:
            raise ValueError(f"ViewWeights.edge_penalty must be in (0, 1], got {self.edge_penalty!r}")


def view_quality(image: npt.NDArray[np.uint8], box: npt.ArrayLike, confidence: float, weights: ViewWeights) -> float:
    """The log of a view's quality (see `ViewWeights`); higher is better, comparable within one object's track.

    Args:
        image: The frame's ``(H, W, 3)`` BGR pixels.
        box: The object's box ``x1, y1, x2, y2`` in that frame.
        confidence: The detection's confidence.
        weights: How much confidence, size and sharpness count.
    """
    x1, y1, x2, y2 = (float(v) for v in np.asarray(box, dtype=np.float64).reshape(4))
    height, width = image.shape[:2]
    area = max((x2 - x1) * (y2 - y1), 1.0)
    quality = weights.confidence_weight * math.log(max(float(confidence), 1e-3)) + weights.size_weight * math.log(area)
    if weights.sharpness_weight > 0:
        quality += weights.sharpness_weight * math.log1p(crop_sharpness(image, (x1, y1, x2, y2)))
    margin = weights.edge_margin_px
    if x1 <= margin or y1 <= margin or x2 >= width - margin or y2 >= height - margin:
        quality += math.log(weights.edge_penalty)
    return quality
