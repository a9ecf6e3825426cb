"""The comparison stage: align a current image to its reference and report what changed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from vision.compare.align import align, follow_parallax
from vision.compare.changemap import ChangeMaps, change_map
from vision.compare.labels import LabelledBoxes, box_canvas, explain, split_detections
from vision.compare.patch_scorer import PatchScorer, cut_patches
from vision.compare.proposals import Proposal, propose
from vision.compare.regions import Component, Cues, decide_kind, fill_holes, find_components
from vision.compare.scorer import FeaturePlanes, Features, RegionScorer, region_features, select
from vision.compare.types import ChangeKind, ChangeRegion, ChangeResult, CompareSettings, PairMismatchError
from vision.detections import Detections

Image = npt.NDArray[np.uint8]
BoolImage = npt.NDArray[np.bool_]
# Loose on purpose: OpenCV's stubs type every array it returns as "integer or floating".
Array = npt.NDArray[Any]

# Largest aspect-ratio difference two views of one camera position may have.
_MAX_ASPECT_DIFFERENCE = 0.1
# Largest width ratio between the two images (a sub-stream and a main stream differ by ~3x).
_MAX_SIZE_RATIO = 6.0
_MIN_SIDE = 64


def check_pair_shapes(reference_shape: Sequence[int], current_shape: Sequence[int]) -> str | None:
    """Say why two image shapes cannot be two views of one place, or ``None`` when they can.

    Args:
        reference_shape: ``(H, W, ...)`` of the reference.
        current_shape: ``(H, W, ...)`` of the current image.
    """
    (ref_h, ref_w), (cur_h, cur_w) = reference_shape[:2], current_shape[:2]
    if min(ref_h, ref_w, cur_h, cur_w) < _MIN_SIDE:
        return f"images must be at least {_MIN_SIDE} pixels a side (reference {ref_w}x{ref_h}, current {cur_w}x{cur_h})"
    ref_aspect, cur_aspect = ref_w / ref_h, cur_w / cur_h
    if abs(np.log(ref_aspect / cur_aspect)) > _MAX_ASPECT_DIFFERENCE:
        return f"aspect ratios differ (reference {ref_w}x{ref_h}, current {cur_w}x{cur_h}): not the same view"
    if max(ref_w / cur_w, cur_w / ref_w) > _MAX_SIZE_RATIO:
        return f"sizes differ too much (reference {ref_w}x{ref_h}, current {cur_w}x{cur_h})"
    return None


@dataclass(frozen=True, eq=False)
class PreparedPair:
    """A pair brought to the working resolution and aligned, ready for the change map.

    Attributes:
        current: The current image at the working resolution, BGR uint8.
        reference: The reference warped onto it, BGR uint8.
        valid: Where the warped reference has data (away from its edge).
        homography: Full-resolution reference -> current pixels.
        scale: Working pixels per current pixel.
        current_shape: ``(H, W)`` of the full-resolution current image.
    """

    current: Array  # uint8 BGR
    reference: Array  # uint8 BGR, warped onto the current image
    valid: BoolImage
    homography: npt.NDArray[np.float64]  # full-resolution reference -> current
    scale: float  # working pixels per current pixel
    current_shape: tuple[int, int]  # (H, W) of the full-resolution current image


class ImageComparer:
    """Finds what changed between a reference image of a place and a current one.

    With a region scorer (``settings.scorer``, the shipped ``models/xiuhua-compare`` by default), the
    change map is cut at several thresholds and a small learned model keeps the candidates that fit a
    changed object and says whether each is new or gone (where it is unsure, ``settings.kind_margin``,
    :func:`decide_kind` says); without one (``scorer=None``), regions are the map's components at one
    threshold and their kind comes from :func:`decide_kind`.

    Example:
        >>> comparer = ImageComparer(CompareSettings())
        >>> result = comparer.compare(reference_image, current_image)
        >>> [(region.kind, region.box) for region in result.regions]
    """

    def __init__(self, settings: CompareSettings | None = None) -> None:
        self.settings = settings or CompareSettings()
        scorer = self.settings.scorer
        self._scorer = None if scorer is None else RegionScorer(scorer)
        patch_scorer = self.settings.patch_scorer if scorer is not None else None
        self._patch_scorer = None if patch_scorer is None else PatchScorer(patch_scorer)

    def compare(
        self,
        reference: Image,
        current: Image,
        *,
        ignore_mask: BoolImage | None = None,
        detections_current: Detections | None = None,
        detections_reference: Detections | None = None,
        names: Sequence[str] = (),
        ignore_boxes: npt.ArrayLike | None = None,
    ) -> ChangeResult:
        """Align ``current`` to ``reference`` and return the changed regions in current pixels.

        Args:
            reference: ``(H, W, 3)`` uint8 BGR image of the place before.
            current: ``(H', W', 3)`` uint8 BGR image of the place now (same aspect ratio).
            ignore_mask: Boolean ``(H', W')`` mask of current pixels never to report (sky, road lanes);
                see :func:`vision.compare.masks.load_ignore_mask`.
            detections_current: Detector output on ``current``: people/vehicles are ignored, other
                classes label the regions they overlap.
            detections_reference: Detector output on ``reference`` (reference pixels).
            names: Class names for the detections' ``class_id``.
            ignore_boxes: ``(N, 4)`` xyxy boxes in current pixels whose changes are ignored, as an
                alternative to detections (e.g. from a tracker).

        Returns:
            The result; ``aligned`` is False with a ``reason`` when the views could not be aligned.

        Raises:
            PairMismatchError: The images cannot be two views of one place (aspect, size).
        """
        prepared = self.prepare(reference, current)
        if isinstance(prepared, str):
            return ChangeResult(False, prepared, None, (), None)
        maps = change_map(prepared.reference, prepared.current, prepared.valid, self.settings)
        return self._result(prepared, maps, ignore_mask, detections_current, detections_reference, names, ignore_boxes)

    def compare_many(
        self,
        reference: Image,
        currents: Sequence[Image],
        *,
        ignore_mask: BoolImage | None = None,
        ignore_boxes: npt.ArrayLike | None = None,
    ) -> ChangeResult:
        """Compare several current frames of one view and keep only change seen in most of them.

        Passers-by move between frames; a new structure stays. The per-pixel median of the change maps
        (each mapped onto the first frame) is what is thresholded.

        Args:
            reference: The reference image.
            currents: Current frames of the same view, a few seconds apart; boxes are in the first one's
                pixels.
            ignore_mask: As in :meth:`compare`, for the first frame.
            ignore_boxes: As in :meth:`compare`, for the first frame.

        Returns:
            The result for the first frame; not aligned when the first frame cannot be aligned.
        """
        if not currents:
            raise ValueError("compare_many needs at least one current frame")
        first = self.prepare(reference, currents[0])
        if isinstance(first, str):
            return ChangeResult(False, first, None, (), None)
        maps = [change_map(first.reference, first.current, first.valid, self.settings)]
        work_size = (first.current.shape[1], first.current.shape[0])
        for other in currents[1:]:
            prepared = self.prepare(reference, other)
            if isinstance(prepared, str):
                continue
            frame_maps = change_map(prepared.reference, prepared.current, prepared.valid, self.settings)
            # working pixels of this frame -> reference -> working pixels of the first frame
            to_first = _scale_matrix(first.scale) @ first.homography
            to_first = to_first @ np.linalg.inv(prepared.homography) @ np.linalg.inv(_scale_matrix(prepared.scale))
            maps.append(
                ChangeMaps(
                    *(cv2.warpPerspective(m, to_first, work_size) for m in (frame_maps.extent, frame_maps.evidence))
                )
            )
        median = ChangeMaps(
            np.median(np.stack([m.extent for m in maps]), axis=0).astype(np.float32),
            np.median(np.stack([m.evidence for m in maps]), axis=0).astype(np.float32),
        )
        return self._result(first, median, ignore_mask, None, None, (), ignore_boxes)

    def prepare(self, reference: Image, current: Image) -> PreparedPair | str:
        """Resize both to the working size and warp the reference onto the current image.

        Returns:
            The prepared pair, or why alignment failed.

        Raises:
            PairMismatchError: The images cannot be two views of one place.
            ValueError: An image is not ``(H, W, 3)`` uint8.
        """
        _check_image(reference, "reference")
        _check_image(current, "current")
        problem = check_pair_shapes(reference.shape, current.shape)
        if problem is not None:
            raise PairMismatchError(problem)
        cur_h, cur_w = current.shape[:2]
        scale = min(1.0, self.settings.work_width / cur_w)
        work_size = (max(32, round(cur_w * scale)), max(32, round(cur_h * scale)))
        interpolation = cv2.INTER_AREA
        cur_small = cv2.resize(current, work_size, interpolation=interpolation)
        ref_small = cv2.resize(reference, work_size, interpolation=interpolation)
        alignment = align(
            cv2.cvtColor(ref_small, cv2.COLOR_BGR2GRAY), cv2.cvtColor(cur_small, cv2.COLOR_BGR2GRAY), self.settings
        )
        if alignment.homography is None:
            return alignment.reason or "alignment failed"
        warped = cv2.warpPerspective(ref_small, alignment.homography, work_size, flags=cv2.INTER_LINEAR)
        coverage = cv2.warpPerspective(np.ones(work_size[::-1], np.uint8), alignment.homography, work_size)
        # The local windows and the forgiven shift reach a few pixels: keep off the warped reference's edge.
        margin = int(np.ceil(3 * self.settings.window_sigma)) + self.settings.shift_radius + 1
        edge = np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)
        inside = cv2.erode(coverage, edge, borderType=cv2.BORDER_CONSTANT, borderValue=1).astype(bool)
        warped, valid = follow_parallax(warped, cur_small, inside, self.settings)
        ref_to_work = np.diag([work_size[0] / reference.shape[1], work_size[1] / reference.shape[0], 1.0])
        full = np.linalg.inv(_scale_matrix(scale)) @ alignment.homography @ ref_to_work
        return PreparedPair(cur_small, warped, valid.astype(bool), full / full[2, 2], scale, (cur_h, cur_w))

    def masks(
        self,
        prepared: PreparedPair,
        ignore_mask: BoolImage | None = None,
        detections_current: Detections | None = None,
        detections_reference: Detections | None = None,
        names: Sequence[str] = (),
        ignore_boxes: npt.ArrayLike | None = None,
    ) -> tuple[BoolImage, BoolImage, LabelledBoxes, LabelledBoxes]:
        """Where changes may be reported and where passers-by are, at the working resolution.

        Returns:
            ``(keep, transient, labelled_now, labelled_before)``: pixels that may change (valid, not
            ignored), pixels under people/vehicles (detections of transient classes and ``ignore_boxes``),
            and the other detections in current pixels, to label regions with.
        """
        settings = self.settings
        shape = prepared.valid.shape
        keep = prepared.valid.copy()
        if ignore_mask is not None:
            keep &= ~_fit_mask(ignore_mask, prepared.current_shape, shape)
        transient_now, labelled_now = split_detections(detections_current, names, settings.transient_classes)
        transient_before, labelled_before = split_detections(
            detections_reference, names, settings.transient_classes, prepared.homography
        )
        extra = np.asarray(ignore_boxes if ignore_boxes is not None else np.zeros((0, 4)), np.float32).reshape(-1, 4)
        transient = box_canvas(np.concatenate([transient_now, transient_before, extra]), shape, prepared.scale)
        return keep, transient, labelled_now, labelled_before

    def candidates(
        self, prepared: PreparedPair, maps: ChangeMaps, keep: BoolImage, transient: BoolImage
    ) -> tuple[list[Proposal], Features]:
        """The candidate regions of a pair and their features (what the region scorer reads)."""
        proposals = propose(maps.extent, keep, transient)
        planes = FeaturePlanes.of(prepared.reference, prepared.current, maps.extent, maps.evidence, keep, transient)
        return proposals, region_features(proposals, planes)

    def _result(
        self,
        prepared: PreparedPair,
        maps: ChangeMaps,
        ignore_mask: BoolImage | None,
        detections_current: Detections | None,
        detections_reference: Detections | None,
        names: Sequence[str],
        ignore_boxes: npt.ArrayLike | None,
    ) -> ChangeResult:
        """Find the regions, drop ignored ones, decide kind and label."""
        keep, transient, labelled_now, labelled_before = self.masks(
            prepared, ignore_mask, detections_current, detections_reference, names, ignore_boxes
        )
        found: list[tuple[Component, ChangeKind | None]] = []
        if self._scorer is not None:
            found.extend(self._scored_components(prepared, maps, keep, transient))
        else:
            found.extend((c, None) for c in self._classical_components(maps, keep, transient))
        regions = []
        judge = _KindJudge(prepared, keep & ~transient, [component for component, _ in found])
        for component, learnt_kind in found:
            box, mask = _to_current(component, prepared)
            kind, label = explain(box, labelled_now, labelled_before, self.settings.label_overlap)
            if kind is None:
                kind = learnt_kind or judge.kind(component)
            regions.append(ChangeRegion(box, mask, component.score, kind, label))
        regions.sort(key=lambda region: -region.score)
        return ChangeResult(True, None, prepared.homography, tuple(regions), maps.extent)

    def _classical_components(self, maps: ChangeMaps, keep: BoolImage, transient: BoolImage) -> list[Component]:
        """Regions as the components of the change map at one threshold."""
        # Passers-by are cut out before regions are formed, so one never merges with a real change next to
        # it; what is left of a region mostly under them is dropped.
        components = find_components(maps.extent, keep & ~transient, self.settings, maps.evidence)
        return [c for c in components if _share_covered(c, transient) < self.settings.transient_cover]

    def _scored_components(
        self, prepared: PreparedPair, maps: ChangeMaps, keep: BoolImage, transient: BoolImage
    ) -> list[tuple[Component, ChangeKind | None]]:
        """Regions as the candidates the region scorer rates best, overlapping ones suppressed; their kind
        as the scorer's kind head says, or ``None`` (the images' cues decide) where it is unsure."""
        assert self._scorer is not None
        proposals, features = self.candidates(prepared, maps, keep, transient)
        scores = self._scorer.score(features)
        new_probability = self._scorer.new_probability(features)
        threshold = self.settings.scorer_threshold
        if self._patch_scorer is not None:
            scores, new_probability = self._second_look(
                prepared, maps, transient, proposals, features, (scores, new_probability)
            )
            threshold = self.settings.patch_threshold
        kinds = dict(zip(map(id, proposals), new_probability, strict=True))
        chosen = select(
            proposals,
            scores,
            threshold,
            self.settings.scorer_overlap,
            transient=transient,
            transient_cover=self.settings.transient_cover,
        )
        margin = self.settings.kind_margin
        return [
            (Component(proposal.box, fill_holes(proposal.mask), score), _learnt_kind(kinds[id(proposal)], margin))
            for proposal, score in chosen
        ]

    def _second_look(
        self,
        prepared: PreparedPair,
        maps: ChangeMaps,
        transient: BoolImage,
        proposals: list[Proposal],
        features: Features,
        region: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]],
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """Fit and kind from the patch scorer for the candidates the region scorer (``region``: its fit and
        probability of new) gives a chance; the others (most of them, and cheaper so) get a fit of 0."""
        assert self._patch_scorer is not None
        region_fit, region_new = region
        promising = np.flatnonzero(region_fit >= self.settings.patch_prefilter)
        patches = cut_patches(
            prepared.current,
            prepared.reference,
            maps.extent,
            maps.evidence,
            transient,
            [proposals[int(i)] for i in promising],
            self._patch_scorer.patch_size,
        )
        fit, new = self._patch_scorer.predict(
            patches, features[promising], region_fit[promising], region_new[promising]
        )
        all_fit, all_new = np.zeros(len(proposals), np.float32), np.zeros(len(proposals), np.float32)
        all_fit[promising], all_new[promising] = fit, new
        return all_fit, all_new


class _KindJudge:
    """:func:`decide_kind` for regions without a learnt kind; its image cues are computed on first use
    (only where there is no region scorer or its kind head is unsure)."""

    def __init__(self, prepared: PreparedPair, usable: BoolImage, components: list[Component]) -> None:
        self.prepared, self.usable, self.components = prepared, usable, components
        self._cues: tuple[Cues, Cues, BoolImage] | None = None

    def kind(self, component: Component) -> ChangeKind:
        if self._cues is None:
            changed = np.zeros(self.usable.shape, bool)
            for other in self.components:
                changed |= other.full_mask(self.usable.shape)
            cues = Cues.of(self.prepared.reference), Cues.of(self.prepared.current)
            self._cues = (*cues, self.usable & ~changed)
        reference_cues, current_cues, background = self._cues
        return decide_kind(component, reference_cues, current_cues, background)


def _learnt_kind(new_probability: float, margin: float) -> ChangeKind | None:
    """The kind head's word, or ``None`` where its probability of new is within ``margin`` of 0.5."""
    if abs(new_probability - 0.5) < margin:
        return None
    return "new" if new_probability >= 0.5 else "gone"


def _to_current(component: Component, prepared: PreparedPair) -> tuple[tuple[int, int, int, int], BoolImage]:
    """Map a working-resolution component to a box and box-local mask in current pixels."""
    cur_h, cur_w = prepared.current_shape
    x1, y1, x2, y2 = (side / prepared.scale for side in component.box)
    box = (max(0, int(x1)), max(0, int(y1)), min(cur_w, int(np.ceil(x2))), min(cur_h, int(np.ceil(y2))))
    size = (max(1, box[2] - box[0]), max(1, box[3] - box[1]))
    mask = cv2.resize(component.mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
    return box, mask


def _share_covered(component: Component, covered: BoolImage) -> float:
    x1, y1, x2, y2 = component.box
    return float((covered[y1:y2, x1:x2] & component.mask).sum() / max(1, component.mask.sum()))


def _scale_matrix(scale: float) -> npt.NDArray[np.float64]:
    return np.diag([scale, scale, 1.0])


def _check_image(image: Image, role: str) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        described = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
        raise ValueError(f"{role} image must be (H, W, 3) uint8 BGR, got {described}")


def _fit_mask(mask: BoolImage, current_shape: tuple[int, int], work_shape: tuple[int, ...]) -> BoolImage:
    """Bring an ignore mask of the current image's shape to the working resolution."""
    mask = np.asarray(mask)
    if mask.shape != current_shape:
        raise ValueError(f"ignore_mask must have the current image's shape {current_shape}, got {mask.shape}")
    resized = cv2.resize(mask.astype(np.uint8), (work_shape[1], work_shape[0]), interpolation=cv2.INTER_NEAREST)
    return resized.astype(bool)
