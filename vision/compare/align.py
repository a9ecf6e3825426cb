"""Aligning two views of one place: ORB features + USAC homography, checked, then refined by tracking."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from vision.compare.types import CompareSettings

# Loose on purpose: OpenCV's stubs type every array it returns as "integer or floating".
GrayImage = npt.NDArray[Any]
_FLANN_INDEX_LSH = 6
# Share of tracked corners that must agree on one motion before a fixed camera is taken as unmoved.
_FIXED_CAMERA_AGREEMENT = 0.6
Homography = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Alignment:
    """Outcome of aligning a reference to a current image of the same size.

    Attributes:
        homography: ``(3, 3)`` map from reference pixels to current pixels, or ``None`` on failure.
        reason: Why alignment failed, else ``None``.
        inliers: Feature matches consistent with the homography.
        refined: Whether the tracking refinement was applied and kept.
    """

    homography: Homography | None
    reason: str | None
    inliers: int = 0
    refined: bool = False


def align(reference: GrayImage, current: GrayImage, settings: CompareSettings) -> Alignment:
    """Find the homography that maps ``reference`` onto ``current`` (same size, grayscale).

    Feature matching first; when it finds too little (a plain road, a change of exposure that changes every
    small feature), the views may still be the same fixed camera: corners tracked from where they were must
    then agree on one small motion, or the pair is reported as not aligned.

    Args:
        reference: Grayscale reference at the working resolution.
        current: Grayscale current image, same shape as ``reference``.
        settings: Feature, RANSAC and sanity limits.

    Returns:
        The alignment; ``homography`` is ``None`` and ``reason`` says why when no trustworthy
        homography was found.
    """
    # The LSH matcher's tables and USAC's samples are random: seeding OpenCV's (per-thread) generator
    # makes the same pair always align the same way, so a comparison can be repeated.
    cv2.setRNGSeed(0)
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    ref_eq, cur_eq = clahe.apply(reference), clahe.apply(current)
    homography, reason, inliers = _feature_homography(ref_eq, cur_eq, settings)
    if homography is None:
        still = refine_flow(ref_eq, cur_eq, np.eye(3), settings, min_agreement=_FIXED_CAMERA_AGREEMENT)
        if still is None or homography_problem(still, current.shape[1], current.shape[0], settings) is not None:
            return Alignment(None, reason, inliers)
        return Alignment(still, None, inliers, refined=True)
    if not settings.refine:
        return Alignment(homography, None, inliers)
    refined = refine_flow(ref_eq, cur_eq, homography, settings)
    if refined is None:
        return Alignment(homography, None, inliers)
    return Alignment(refined, None, inliers, refined=True)


def _feature_homography(
    reference: GrayImage, current: GrayImage, settings: CompareSettings
) -> tuple[Homography | None, str, int]:
    """ORB matches and a USAC homography, checked; ``(homography or None, why not, inliers)``."""
    orb = cv2.ORB.create(nfeatures=settings.max_features, fastThreshold=12)
    ref_kp, ref_desc = orb.detectAndCompute(reference, None)
    cur_kp, cur_desc = orb.detectAndCompute(current, None)
    if ref_desc is None or cur_desc is None or min(len(ref_kp), len(cur_kp)) < settings.min_inliers:
        return None, "too few features to align (flat or blank image)", 0
    pairs = _matcher().knnMatch(ref_desc, cur_desc, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < settings.match_ratio * p[1].distance]
    if len(good) < settings.min_inliers:
        return None, f"only {len(good)} feature matches; the images may not show the same place", 0
    src = np.array([ref_kp[m.queryIdx].pt for m in good], np.float32).reshape(-1, 1, 2)
    dst = np.array([cur_kp[m.trainIdx].pt for m in good], np.float32).reshape(-1, 1, 2)
    homography, inlier_mask = cv2.findHomography(
        src, dst, cv2.USAC_MAGSAC, settings.ransac_threshold, maxIters=2000, confidence=0.999
    )
    inliers = 0 if inlier_mask is None else int(inlier_mask.sum())
    if homography is None or inliers < settings.min_inliers:
        return None, f"only {inliers} consistent matches; the images may not show the same place", inliers
    if inliers < settings.min_inlier_ratio * len(good):
        return None, f"{inliers} of {len(good)} matches agree; the view is ambiguous", inliers
    homography = homography / homography[2, 2]
    problem = homography_problem(homography, current.shape[1], current.shape[0], settings)
    return (None, problem, inliers) if problem is not None else (homography, "", inliers)


def _matcher() -> cv2.DescriptorMatcher:
    """Approximate nearest neighbours on binary descriptors (LSH): ~3x faster than brute force here,
    and RANSAC does not miss the few matches it loses."""
    index: dict[str, bool | int | float | str] = {
        "algorithm": _FLANN_INDEX_LSH,
        "table_number": 6,
        "key_size": 12,
        "multi_probe_level": 1,
    }
    search: dict[str, bool | int | float | str] = {"checks": 50}
    return cv2.FlannBasedMatcher(index, search)


def homography_problem(homography: Homography, width: int, height: int, settings: CompareSettings) -> str | None:
    """Say what makes a homography implausible for two views of one place, or ``None`` if it is fine.

    Args:
        homography: Map from reference to current pixels.
        width: Image width in pixels.
        height: Image height in pixels.
        settings: The scale, shear, perspective and shift limits.

    Returns:
        A sentence naming the failed check, or ``None``.
    """
    if not np.all(np.isfinite(homography)):
        return "homography is not finite"
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float64)
    denominators = corners @ homography[2, :2] + homography[2, 2]
    if np.any(denominators <= 0) or np.ptp(denominators) > settings.max_perspective:
        return "implausible perspective change between the views"
    centre = np.array([width / 2, height / 2, 1.0])
    moved = homography @ centre
    # Jacobian of the homography at the image centre: its local zoom, rotation and shear.
    linear = (homography[:2, :2] - np.outer(moved[:2] / moved[2], homography[2, :2])) / moved[2]
    singular = np.linalg.svd(linear, compute_uv=False)
    if np.linalg.det(linear) <= 0 or singular[1] <= 1e-6:
        return "homography flips or collapses the image"
    scale = float(np.sqrt(singular[0] * singular[1]))
    if not 1.0 / settings.max_scale_change <= scale <= settings.max_scale_change:
        return f"implausible zoom {scale:.2f}x between the views"
    if singular[0] / singular[1] > settings.max_anisotropy:
        return f"implausible shear/squash {singular[0] / singular[1]:.2f} between the views"
    shift = np.hypot(*(moved[:2] / moved[2] - centre[:2])) / np.hypot(width, height)
    if shift > settings.max_shift:
        return f"views are shifted by {shift:.0%} of the image diagonal"
    return None


def refine_flow(
    reference: GrayImage,
    current: GrayImage,
    homography: Homography,
    settings: CompareSettings,
    min_agreement: float = 0.0,
) -> Homography | None:
    """Polish a homography by tracking corners between the current image and the warped reference.

    Lucas-Kanade on the contrast-equalised images is sub-pixel accurate where ORB keypoints (found on a
    scale pyramid) are not; a forward-backward check and a tight RANSAC drop tracks on changed areas.
    Returns ``None`` when too few tracks agree (fewer than ``min_inliers``, or than ``min_agreement`` of the
    tracks that survived the round trip) or the correction is implausibly large.
    """
    height, width = current.shape
    warped = cv2.warpPerspective(reference, homography, (width, height), flags=cv2.INTER_LINEAR)
    coverage = cv2.warpPerspective(np.full(current.shape, 255, np.uint8), homography, (width, height))
    coverage = cv2.erode(coverage, np.ones((15, 15), np.uint8))
    corners = cv2.goodFeaturesToTrack(current, 400, 0.01, 8, mask=coverage, blockSize=5)
    if corners is None or len(corners) < settings.min_inliers:
        return None
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03)
    tracked, status, _ = cv2.calcOpticalFlowPyrLK(
        current, warped, corners, corners.copy(), winSize=(15, 15), maxLevel=2, criteria=criteria
    )
    back, back_status, _ = cv2.calcOpticalFlowPyrLK(
        warped, current, tracked, tracked.copy(), winSize=(15, 15), maxLevel=2, criteria=criteria
    )
    round_trip = np.linalg.norm((back - corners).reshape(-1, 2), axis=1)
    good = (status.ravel() == 1) & (back_status.ravel() == 1) & (round_trip < 0.5)
    if good.sum() < settings.min_inliers:
        return None
    residual, inliers = cv2.findHomography(corners[good], tracked[good], cv2.USAC_MAGSAC, 1.0)
    if residual is None or inliers is None or inliers.sum() < max(settings.min_inliers, min_agreement * good.sum()):
        return None
    # residual maps current -> warped reference; reference -> current is then inv(residual) @ homography.
    refined = np.linalg.inv(residual) @ homography
    refined /= refined[2, 2]
    box = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float64).reshape(-1, 1, 2)
    moved = cv2.perspectiveTransform(box, refined) - cv2.perspectiveTransform(box, homography)
    if not np.all(np.isfinite(moved)) or np.abs(moved).max() > 0.02 * width:
        return None
    return refined


def follow_parallax(
    warped_reference: npt.NDArray[Any],
    current: npt.NDArray[Any],
    valid: npt.NDArray[np.bool_],
    settings: CompareSettings,
) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
    """Move the homography-warped reference along a smooth, bounded optical flow onto the current image.

    A homography aligns one plane; when the camera itself moved (a patrol vehicle, a re-mounted camera) things
    nearer or farther than that plane shift against it. DIS optical flow at half the working resolution,
    median-smoothed and capped at ``max_parallax``, takes that shift out. The cap and the smoothing keep the
    flow from squeezing away an object that really appeared or vanished: it can move texture a few pixels,
    not make a shed out of a wall.

    Args:
        warped_reference: BGR reference already warped by the homography.
        current: BGR current image of the same size.
        valid: Where the warped reference has data.
        settings: ``max_parallax`` (fraction of the width; 0 turns this off).

    Returns:
        The reference moved by the flow, and where it still has data.
    """
    height, width = current.shape[:2]
    limit = settings.max_parallax * width
    if limit <= 0:
        return warped_reference, valid
    size = (max(16, width // 2), max(16, height // 2))
    cur_gray = cv2.cvtColor(current, cv2.COLOR_BGR2GRAY)
    # Where the reference has no data, show the flow the current image itself: zero flow, and no black
    # border for the flow to latch onto.
    ref_gray = np.where(valid, cv2.cvtColor(warped_reference, cv2.COLOR_BGR2GRAY), cur_gray).astype(np.uint8)
    cur_small = cv2.resize(cur_gray, size, interpolation=cv2.INTER_AREA)
    ref_small = cv2.resize(ref_gray, size, interpolation=cv2.INTER_AREA)
    # Optical flow assumes constant brightness: equalise local contrast in both first.
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    cur_small, ref_small = clahe.apply(cur_small), clahe.apply(ref_small)
    dis = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    flow = dis.calc(cur_small, ref_small, np.zeros((*cur_small.shape[:2], 2), np.float32))
    flow = cv2.medianBlur(cv2.medianBlur(flow, 5), 5)
    flow = cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR) * np.float32(width / size[0])
    length = np.sqrt((flow**2).sum(axis=2, keepdims=True))
    flow *= np.minimum(1.0, limit / np.maximum(length, 1e-6)).astype(np.float32)
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    map_x, map_y = grid_x + flow[..., 0], grid_y + flow[..., 1]
    moved = cv2.remap(warped_reference, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    still_valid = cv2.remap(valid.astype(np.uint8), map_x, map_y, cv2.INTER_NEAREST, borderValue=0).astype(bool)
    return moved, still_valid & valid
