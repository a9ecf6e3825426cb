"""From a change map to regions: threshold, morphology, components, and whether each is new or gone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from vision.compare.types import ChangeKind, CompareSettings

# Loose on purpose: OpenCV's stubs type every array it returns as "integer or floating".
FloatImage = npt.NDArray[Any]
BoolImage = npt.NDArray[np.bool_]

# Weight of the outline's edge strength against the histogram distance in objectness.
_OUTLINE_WEIGHT = 0.25


@dataclass(frozen=True, eq=False)
class Component:
    """A changed area at the working resolution.

    Attributes:
        box: ``(x1, y1, x2, y2)`` working pixels, x2/y2 exclusive.
        mask: Box-local boolean mask, holes filled.
        score: Mean change score of the changed pixels, 0..1.
    """

    box: tuple[int, int, int, int]
    mask: BoolImage
    score: float

    def full_mask(self, shape: tuple[int, int]) -> BoolImage:
        """The mask pasted into an all-False image of ``shape``."""
        canvas = np.zeros(shape, bool)
        x1, y1, x2, y2 = self.box
        canvas[y1:y2, x1:x2] = self.mask
        return canvas


def find_components(
    scores: FloatImage, keep: BoolImage, settings: CompareSettings, evidence: FloatImage | None = None
) -> list[Component]:
    """Turn per-pixel change scores into solid changed areas.

    Args:
        scores: ``(h, w)`` change scores in ``[0, 1]``: the areas' shape.
        keep: Pixels that may change (valid overlap, outside the ignore mask).
        settings: Thresholds, minimum area and score.
        evidence: Scores an area needs a seed in (default: ``scores``).

    Returns:
        Components holding a seed (a disk of ``seed_radius`` working pixels whose evidence is above
        ``seed_threshold``: thin things like rain streaks and shadow edges have none), covering at least
        ``min_area`` of the image, with a score of at least ``min_score``; highest score first.
    """
    binary = ((scores > settings.threshold) & keep).astype(np.uint8)
    # Opening removes the thin lines a residual misalignment leaves along strong edges; closing
    # joins the pieces of one object.
    opened = cv2.morphologyEx(binary, cv2.MORPH_OPEN, _disk(1))
    changed = cv2.morphologyEx(opened, cv2.MORPH_CLOSE, _disk(3))
    strong = (((scores if evidence is None else evidence) > settings.seed_threshold) & keep).astype(np.uint8)
    seeds = cv2.erode(strong, _disk(settings.seed_radius)) if settings.seed_radius > 0 else strong
    count, labels, stats, _ = cv2.connectedComponentsWithStats(changed, connectivity=8)
    min_pixels = settings.min_area * scores.size
    components = []
    for index in range(1, count):
        x, y, width, height, area = (int(v) for v in stats[index])
        if area < min_pixels:
            continue
        local_scores = scores[y : y + height, x : x + width]
        local = labels[y : y + height, x : x + width] == index
        if not seeds[y : y + height, x : x + width][local].any():
            continue
        score = float(local_scores[local].mean())
        if score < settings.min_score:
            continue
        components.append(Component((x, y, x + width, y + height), fill_holes(local), score))
    return sorted(components, key=lambda component: -component.score)


@dataclass(frozen=True, eq=False)
class Cues:
    """Per-image planes the new/gone decision reads: Lab colour (8-bit) and gradient magnitude."""

    lab: npt.NDArray[np.uint8]
    gradient: FloatImage

    @classmethod
    def of(cls, image: npt.NDArray[np.uint8]) -> Cues:
        """Compute the cues of a BGR uint8 image."""
        lab = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2LAB), np.uint8)
        gray = lab[..., 0].astype(np.float32)
        gradient = cv2.magnitude(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1))
        return cls(lab, gradient)


def decide_kind(component: Component, reference: Cues, current: Cues, background: BoolImage) -> ChangeKind:
    """Say whether the change is something that appeared (``"new"``) or disappeared (``"gone"``).

    The image that holds the object shows a region that stands out from its surroundings (other colour,
    other texture, an outline); in the other image the surroundings simply continue through it.

    Args:
        component: The changed area.
        reference: Cues of the aligned reference.
        current: Cues of the current image.
        background: Pixels usable as surroundings (valid, unchanged, not ignored).
    """
    x1, y1, x2, y2 = component.box
    reach = max(4, round(0.3 * np.sqrt(component.mask.sum())))
    height, width = background.shape
    wx1, wy1 = max(0, x1 - reach - 2), max(0, y1 - reach - 2)
    wx2, wy2 = min(width, x2 + reach + 2), min(height, y2 + reach + 2)
    window = (slice(wy1, wy2), slice(wx1, wx2))
    inside = np.zeros((wy2 - wy1, wx2 - wx1), np.uint8)
    inside[y1 - wy1 : y2 - wy1, x1 - wx1 : x2 - wx1] = component.mask
    near = cv2.dilate(inside, _disk(2)).astype(bool)
    far = cv2.dilate(inside, _disk(reach)).astype(bool)
    ring = far & ~near & background[window]
    if ring.sum() < 16:
        ring = far & ~near
    boundary = near & ~cv2.erode(inside, _disk(2)).astype(bool)
    regions = (inside.astype(bool), ring, boundary)
    now = objectness(np.ascontiguousarray(current.lab[window]), current.gradient[window], *regions)
    before = objectness(np.ascontiguousarray(reference.lab[window]), reference.gradient[window], *regions)
    return "new" if now >= before else "gone"


def objectness(
    lab: npt.NDArray[np.uint8], gradient: FloatImage, inside: BoolImage, ring: BoolImage, boundary: BoolImage
) -> float:
    """How much a region stands out from its surroundings in one image: colour and tone, and outline.

    The first part is the Bhattacharyya distance between the Lab histograms of the region and of its
    ring (0: the surroundings simply continue through it; 1: nothing in common); the second, how much
    stronger the edges along its outline are than those of the ring.

    Args:
        lab: Lab image, 8-bit.
        gradient: Gradient magnitude of the L plane.
        inside: The region.
        ring: Its surroundings.
        boundary: A thin band along its outline.

    Returns:
        A unitless score; only comparisons between two images of the same region mean anything.
    """
    bins, ranges = [8, 8, 8], [0, 256, 0, 256, 0, 256]
    inside_histogram = cv2.calcHist([lab], [0, 1, 2], inside.astype(np.uint8), bins, ranges)
    ring_histogram = cv2.calcHist([lab], [0, 1, 2], ring.astype(np.uint8), bins, ranges)
    distance = cv2.compareHist(inside_histogram, ring_histogram, cv2.HISTCMP_BHATTACHARYYA)
    outline = float(gradient[boundary].mean()) / (float(gradient[ring].mean()) + 10.0)
    return float(distance) + _OUTLINE_WEIGHT * outline


def fill_holes(mask: BoolImage) -> BoolImage:
    """Fill the holes of a binary mask (objects are solid; a flat object changes only at its outline)."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros(mask.shape, np.uint8)
    cv2.drawContours(filled, contours, -1, 1, thickness=cv2.FILLED)
    return filled.astype(bool) | mask


def _disk(radius: int) -> npt.NDArray[Any]:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
