"""Data of image comparison: settings, changed regions, the result, and the one error of its own."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from vision.errors import VisionError

ChangeKind = Literal["new", "gone"]

# Things that move through a scene; a change they explain is not a change of the place.
DEFAULT_TRANSIENT_CLASSES = (
    "person",
    "pedestrian",
    "people",
    "rider",
    "bicycle",
    "motorcycle",
    "motorbike",
    "car",
    "bus",
    "truck",
    "van",
    "vehicle",
)


# The shipped region scorer (models/xiuhua-compare), next to the package in a source checkout.
DEFAULT_SCORER = str(Path(__file__).resolve().parents[2] / "models" / "xiuhua-compare" / "region-scorer.npz")


class PairMismatchError(VisionError):
    """The two images cannot show the same view (aspect or size too different, or too small)."""


@dataclass(frozen=True)
class CompareSettings:
    """How the comparer aligns, what it calls a change and what it keeps.

    Attributes:
        work_width: Width in pixels the comparison runs at; boxes are mapped back to the current image.
        max_features: ORB keypoints per image for alignment.
        match_ratio: Lowe's ratio for keeping a descriptor match.
        ransac_threshold: Reprojection error in working pixels for a homography inlier.
        min_inliers: Fewest inliers an accepted homography needs.
        min_inlier_ratio: Smallest share of ratio-test matches that must be inliers.
        max_scale_change: Largest accepted zoom, as a factor either way (1.25 accepts 0.8 to 1.25).
        max_anisotropy: Largest ratio of the two singular values of the linear part (shear / squash).
        max_perspective: Largest relative change of local scale across the image due to perspective.
        max_shift: Largest accepted movement of the image centre, as a fraction of the image diagonal.
        refine: Refine the feature homography by tracking corners (Lucas-Kanade) to sub-pixel accuracy.
        max_parallax: Largest shift, as a fraction of the width, that the optical flow following parallax
            (things nearer or farther than the aligned plane) may apply; 0 (the default) turns it off. On the
            synthetic pairs it removed false changes of a moved camera but added as many under changed light.
        window_sigma: Gaussian sigma (working pixels) of the local statistics of the structure comparison.
        shift_radius: Residual misalignment in working pixels the change map forgives.
        shadow_kernel: Median kernel (working pixels, odd) of the light ratio that relights the reference
            before the structure comparison, so the sharp edge of a moved cast shadow is not a change; 0 or 1
            turns it off.
        noise_floor: Standard deviation of log intensity below which a patch counts as flat, at least.
        noise_factor: The floor is raised to this multiple of the pair's measured noise (the robust
            spread of the fine-scale log difference of the two images); 0 keeps the fixed floor.
        chroma_low: Log-chromaticity difference where colour change starts to count.
        chroma_high: Log-chromaticity difference that counts as a full colour change.
        light_colour_weight: How much a colour difference along the pair's line of light colour counts,
            relative to one across it.
        threshold: Change score (0..1) above which a working pixel is changed.
        seed_threshold: A changed area is kept only if it holds a seed: a disk whose evidence reaches this.
        seed_radius: Radius in working pixels of that disk (thin changes such as rain streaks have none).
        min_area: Smallest kept region, as a fraction of the image area.
        min_score: Smallest kept region score.
        transient_classes: Detector class names of passing things (people, vehicles).
        transient_cover: A region is dropped when this share of it lies under transient boxes (with the scorer: of
            what it adds to better regions it shares pixels with; see :func:`vision.compare.scorer.select`).
        label_overlap: Share of a region (or of a detection box) the two must overlap for the box to label it.
        scorer: Region scorer (:mod:`vision.compare.scorer`, an ``.npz``) that picks regions among candidates
            cut at several thresholds; ``None`` cuts them out of the change map at ``threshold`` instead.
        scorer_threshold: Smallest expected fit (0..1) of a candidate the scorer keeps.
        scorer_overlap: A candidate is dropped when a better kept one covers this share of the smaller
            of the two.
        kind_margin: How far from 0.5 the scorer's probability of ``new`` must be for its kind to stand;
            nearer, the images' cues decide (:func:`vision.compare.regions.decide_kind`). On the dev pairs
            (seeds 101, 102) the unsure head was wrong more often than the cues; 0 always takes the head's word.
        patch_scorer: Patch scorer (:mod:`vision.compare.patch_scorer`, an ``.npz``) that rescores, from
            image patches, the candidates the region scorer gives at least ``patch_prefilter``; ``None``
            (the default: none trained so far beats the region scorer alone, see
            ``models/xiuhua-compare/README.md``) keeps the region scorer's scores. Used only with a region
            scorer.
        patch_prefilter: Smallest region-scorer fit of a candidate the patch scorer looks at again.
        patch_threshold: Smallest patch-scorer fit of a candidate kept (``scorer_threshold`` without one).
    """

    work_width: int = 480
    max_features: int = 1500
    match_ratio: float = 0.8
    ransac_threshold: float = 3.0
    min_inliers: int = 20
    min_inlier_ratio: float = 0.1
    max_scale_change: float = 1.3
    max_anisotropy: float = 1.15
    max_perspective: float = 0.2
    max_shift: float = 0.25
    refine: bool = True
    max_parallax: float = 0.0
    window_sigma: float = 2.0
    shift_radius: int = 2
    shadow_kernel: int = 7
    noise_floor: float = 0.025
    noise_factor: float = 2.0
    chroma_low: float = 0.15
    chroma_high: float = 0.4
    light_colour_weight: float = 0.3
    threshold: float = 0.45
    seed_threshold: float = 0.65
    seed_radius: int = 3
    min_area: float = 0.001
    min_score: float = 0.5
    transient_classes: tuple[str, ...] = DEFAULT_TRANSIENT_CLASSES
    transient_cover: float = 0.5
    label_overlap: float = 0.5
    scorer: str | None = DEFAULT_SCORER
    scorer_threshold: float = 0.35
    scorer_overlap: float = 0.5
    kind_margin: float = 0.3
    patch_scorer: str | None = None
    patch_prefilter: float = 0.02
    patch_threshold: float = 0.35

    def __post_init__(self) -> None:
        if self.work_width < 64:
            raise ValueError(f"CompareSettings.work_width must be at least 64, got {self.work_width}")
        if not 0.0 < self.threshold <= self.seed_threshold <= 1.0:
            raise ValueError(
                "CompareSettings needs 0 < threshold <= seed_threshold <= 1, got "
                f"{self.threshold} and {self.seed_threshold}"
            )
        if self.shadow_kernel > 1 and self.shadow_kernel % 2 == 0:
            raise ValueError(f"CompareSettings.shadow_kernel must be odd, got {self.shadow_kernel}")
        if not 0.0 <= self.kind_margin <= 0.5:
            raise ValueError(f"CompareSettings.kind_margin must be within 0..0.5, got {self.kind_margin}")
        if self.max_scale_change < 1.0:
            raise ValueError(f"CompareSettings.max_scale_change must be >= 1, got {self.max_scale_change}")


@dataclass(frozen=True, eq=False)
class ChangeRegion:
    """One place where the current image differs from the reference.

    Attributes:
        box: ``(x1, y1, x2, y2)`` integer pixels of the CURRENT image, x2/y2 exclusive.
        mask: Box-local boolean mask of shape ``(y2 - y1, x2 - x1)``: which pixels of the box changed.
        score: Confidence of the change, 0..1 (mean change score over the region).
        kind: ``"new"`` (present now, absent in the reference) or ``"gone"`` (present before, absent now).
        label: Detector class that explains the change, or ``None`` for an unexplained change.
    """

    box: tuple[int, int, int, int]
    mask: npt.NDArray[np.bool_]
    score: float
    kind: ChangeKind
    label: str | None = None

    @property
    def area(self) -> int:
        """Changed pixels in the current image."""
        return int(self.mask.sum())


@dataclass(frozen=True, eq=False)
class ChangeResult:
    """What the comparison of a reference and a current image found.

    Attributes:
        aligned: Whether the current image could be aligned to the reference. When False there are no
            regions, and ``reason`` says why; the comparer never guesses.
        reason: Why alignment failed, else ``None``.
        homography: ``(3, 3)`` float64 mapping reference pixels to current pixels (full resolution), or
            ``None`` when not aligned.
        regions: Changed regions, highest score first.
        change_map: ``(h, w)`` float32 change scores 0..1 over the current image at the working resolution
            (resize to the current image's size to overlay it), or ``None`` when not aligned.
    """

    aligned: bool
    reason: str | None
    homography: npt.NDArray[np.float64] | None
    regions: tuple[ChangeRegion, ...]
    change_map: npt.NDArray[np.float32] | None
