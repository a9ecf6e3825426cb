"""Per-pixel change scores between an aligned reference and the current image, blind to lighting.

Two cues, each robust to a different nuisance:

* structure: SSIM's contrast-structure term on log intensity. Log turns a change of light (gain) into an
  offset that the local means remove, so global and smooth light changes, soft shadows and gamma barely
  move it; texture appearing, vanishing or changing does.
* colour: chromaticity (colour with intensity divided out), which catches flat objects of a new colour.

Before both, the reference's tones are mapped through per-channel curves learnt from the aligned pixel
pairs, which absorbs the global part of a change of light (gain, gamma, colour cast) including its
non-linear parts.

Both forgive a residual misalignment of ``shift_radius`` working pixels by taking the best agreement
over the shifted reference.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from vision.compare.types import CompareSettings

# OpenCV's stubs type every array it returns as "integer or floating", so the float planes passed
# between these steps are typed loosely; the public result (ChangeResult.change_map) is float32.
FloatImage = npt.NDArray[Any]
BoolImage = npt.NDArray[np.bool_]

# Offset added before the log so that dark, noisy pixels do not dominate.
_LOG_OFFSET = 32.0
# Largest log ratio of light the shadow filter represents (e^2.5 = 12x).
_RATIO_RANGE = 2.5
# Width in levels of a band of the tone curve, and the fewest pixels a band needs to count.
_TONE_BAND = 8
_TONE_MIN_PIXELS = 24
_LIGHT_PASSES = 3
# Side in working pixels of a cell of the light field.
_FIELD_CELL = 16
# Offset added to each channel before dividing out intensity, for the same reason.
_CHROMA_OFFSET = 20.0


@dataclass(frozen=True, eq=False)
class ChangeMaps:
    """Two views of the change between an aligned pair, both ``(h, w)`` float32 in ``[0, 1]``.

    Attributes:
        extent: Where the current image differs from the relit reference: regions take their shape from it.
        evidence: The same with sharp steps of light (a moved cast shadow's edge) explained away: a region
            needs a pixel of strong evidence to count, so a shadow's edge alone never makes one.
    """

    extent: FloatImage
    evidence: FloatImage


def change_map(
    reference: npt.NDArray[np.uint8],
    current: npt.NDArray[np.uint8],
    valid: BoolImage,
    settings: CompareSettings,
) -> ChangeMaps:
    """Score how much each pixel of ``current`` changed against the aligned ``reference``.

    Args:
        reference: ``(h, w, 3)`` uint8 BGR reference, warped onto the current image.
        current: ``(h, w, 3)`` uint8 BGR current image, same size.
        valid: Pixels where the warped reference has data.
        settings: Window, noise floor, colour thresholds and forgiven shift.

    Returns:
        The extent and evidence maps; 0 outside ``valid``.
    """
    planes = CurrentPlanes.of(current, settings)
    ref_gray = _gray(reference)
    floor = max(settings.noise_floor, settings.noise_factor * pair_noise(ref_gray, planes, valid))
    settings = replace(settings, noise_floor=floor)
    evidence = structure_change(ref_gray, planes, settings, relight=True)
    evidence[~valid] = 0.0
    # Learn the light change only where nothing changed, or a large removed object would teach the
    # tone curve to turn its colours into the background's. Each pass compares with the relit reference,
    # which reveals more of what changed, so the light is learnt again until the changed area stops growing.
    excluded = _grow(evidence > settings.threshold)
    for _ in range(_LIGHT_PASSES):
        matched = match_light(reference, current, valid & ~excluded)
        matched_gray = _gray(matched)
        colour = colour_change(matched, planes, settings)
        evidence = np.maximum(structure_change(matched_gray, planes, settings, relight=True), colour)
        evidence[~valid] = 0.0
        changed = evidence > settings.threshold
        if np.count_nonzero(changed & ~excluded) <= 0.002 * changed.size:
            break
        excluded |= _grow(changed)
    extent = np.maximum(structure_change(matched_gray, planes, settings, relight=False), colour)
    extent[~valid] = 0.0
    return ChangeMaps(np.maximum(extent, evidence), evidence)


def pair_noise(reference: npt.NDArray[np.uint8], current: CurrentPlanes, valid: BoolImage) -> float:
    """Robust standard deviation of the fine-scale log difference of the pair: their noise together.

    The high-pass removes light changes; the median absolute deviation ignores edges, residual
    misalignment and changed areas, which are a minority of pixels.
    """
    difference = current.log - np.log(reference.astype(np.float32) + _LOG_OFFSET)
    fine = difference - cv2.GaussianBlur(difference, (0, 0), 2.0)
    step = max(1, int(np.sqrt(valid.size / 40000)))
    sample = fine[::step, ::step][valid[::step, ::step]]
    if sample.size < 100:
        return 0.0
    return float(1.4826 * np.median(np.abs(sample - np.median(sample))))


def _gray(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), np.uint8)


def _grow(mask: BoolImage) -> BoolImage:
    return cv2.dilate(mask.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)


@dataclass(frozen=True, eq=False)
class CurrentPlanes:
    """What the comparisons need of the current image, computed once per pair.

    Attributes:
        log: Log intensity.
        mean: Its local (Gaussian window) mean.
        variance: Its local variance.
        chroma: Blue and red shares of intensity, lightly smoothed.
    """

    log: FloatImage
    mean: FloatImage
    variance: FloatImage
    chroma: tuple[FloatImage, FloatImage]

    @classmethod
    def of(cls, current: npt.NDArray[np.uint8], settings: CompareSettings) -> CurrentPlanes:
        """Compute the planes of a BGR uint8 image."""
        log = np.log(_gray(current).astype(np.float32) + _LOG_OFFSET)
        mean = _window(log, settings)
        variance = np.maximum(_window(log * log, settings) - mean * mean, 0.0)
        return cls(log, mean, variance, _chromaticity(current))


def structure_change(
    reference: npt.NDArray[np.uint8], current: CurrentPlanes, settings: CompareSettings, *, relight: bool
) -> FloatImage:
    """``1 -`` SSIM contrast-structure of log intensity, best over small shifts; ``(h, w)`` in ``[0, 1]``.

    With ``relight`` the reference is first relit by the edge-preserving local light ratio
    (:func:`_edge_preserving_ratio`), which explains away sharp steps of light.
    """
    log_ref = np.log(reference.astype(np.float32) + _LOG_OFFSET)
    if relight and settings.shadow_kernel > 1:
        log_ref = log_ref + _edge_preserving_ratio(current.log - log_ref, settings.shadow_kernel)
    mean_ref = _window(log_ref, settings)
    var_ref = np.maximum(_window(log_ref * log_ref, settings) - mean_ref * mean_ref, 0.0)
    stability = np.float32(settings.noise_floor**2)
    best = np.full(log_ref.shape, -1.0, np.float32)
    radius = settings.shift_radius
    for shifted_log, shifted_mean, shifted_var in zip(
        _shifts(log_ref, radius), _shifts(mean_ref, radius), _shifts(var_ref, radius), strict=True
    ):
        covariance = _window(current.log * shifted_log, settings) - current.mean * shifted_mean
        agreement = (2.0 * covariance + stability) / (current.variance + shifted_var + stability)
        np.maximum(best, agreement, out=best)
    return np.clip(1.0 - best, 0.0, 1.0)


def _window(image: FloatImage, settings: CompareSettings) -> FloatImage:
    """Local Gaussian-weighted average: the window of the structure comparison."""
    return cv2.GaussianBlur(image, (0, 0), settings.window_sigma)


def _edge_preserving_ratio(log_ratio: FloatImage, kernel: int) -> FloatImage:
    """Median-filtered log ratio of the two images: the local light, steps included.

    Where nothing changed the ratio is piecewise constant (1 in the sun, k in a cast shadow) and the
    median keeps its steps, so relighting the reference with it makes a shadow's edge vanish. Where
    something changed the ratio carries the texture difference, which the median mostly removes, so the
    change stays. Quantised to uint8 (steps of 2 %) because OpenCV's large median filters need 8 bits.
    """
    quantised = np.clip((log_ratio + _RATIO_RANGE) * (127.5 / _RATIO_RANGE), 0, 255).astype(np.uint8)
    median = cv2.medianBlur(quantised, kernel)
    return median.astype(np.float32) * np.float32(_RATIO_RANGE / 127.5) - np.float32(_RATIO_RANGE)


def colour_change(reference: npt.NDArray[np.uint8], current: CurrentPlanes, settings: CompareSettings) -> FloatImage:
    """Chromaticity difference mapped to ``[0, 1]``, smallest over small shifts; ``(h, w)``."""
    ref_blue, ref_red = _chromaticity(reference)
    cur_blue, cur_red = current.chroma
    best = np.full(cur_blue.shape, np.inf, np.float32)
    for shifted_blue, shifted_red in zip(
        _shifts(ref_blue, settings.shift_radius), _shifts(ref_red, settings.shift_radius), strict=True
    ):
        distance = cv2.magnitude(cur_blue - shifted_blue, cur_red - shifted_red)
        np.minimum(best, distance, out=best)
    span = max(settings.chroma_high - settings.chroma_low, 1e-6)
    return np.clip((best - settings.chroma_low) / span, 0.0, 1.0)


def match_light(
    reference: npt.NDArray[np.uint8], current: npt.NDArray[np.uint8], usable: BoolImage
) -> npt.NDArray[np.uint8]:
    """Relight the reference as the current image is lit: a smooth per-channel gain field, then tones.

    The gain field (robust local median of the log ratio of the two images, per channel) takes out
    light that varies across the image: ramps, soft shadows, local colour casts. The tone curves then
    take out what is left and non-linear (gamma, offset), now that it is the same everywhere.

    Args:
        reference: Aligned reference, BGR uint8.
        current: Current image, BGR uint8.
        usable: Pixels to learn from: valid and believed unchanged.
    """
    ref_float = reference.astype(np.float32) + _CHROMA_OFFSET
    cur_float = current.astype(np.float32) + _CHROMA_OFFSET
    field = _gain_field(np.log(cur_float) - np.log(ref_float), usable)
    relit = np.clip(ref_float * np.exp(field) - _CHROMA_OFFSET, 0, 255).astype(np.uint8)
    return match_tones(relit, current, usable)


def _gain_field(log_ratio: FloatImage, usable: BoolImage) -> FloatImage:
    """Smooth per-channel field of the typical log ratio: mean per cell over usable pixels, gaps filled,
    median-smoothed across cells (so a cell spoilt by an unnoticed change does not count)."""
    height, width = usable.shape
    cols, rows = max(1, width // _FIELD_CELL), max(1, height // _FIELD_CELL)
    weight = usable.astype(np.float32)
    cell_weight = cv2.resize(weight, (cols, rows), interpolation=cv2.INTER_AREA)
    cell_sum = cv2.resize(log_ratio * weight[..., None], (cols, rows), interpolation=cv2.INTER_AREA)
    known = cell_weight >= 0.25
    if not known.any():
        return np.zeros(log_ratio.shape, np.float32)
    coarse = cell_sum / np.maximum(cell_weight, 1e-6)[..., None]
    # Fill cells without enough unchanged pixels from their neighbours (normalised convolution).
    known_weight = known.astype(np.float32)
    spread = cv2.GaussianBlur(coarse * known_weight[..., None], (0, 0), 1.5)
    spread_weight = cv2.GaussianBlur(known_weight, (0, 0), 1.5)[..., None]
    fallback = np.median(coarse[known], axis=0)
    filled = np.where(spread_weight > 1e-3, spread / np.maximum(spread_weight, 1e-3), fallback)
    field: FloatImage = np.where(known[..., None], coarse, filled).astype(np.float32)
    if min(rows, cols) >= 5:
        field = cv2.medianBlur(field, 5)
    return cv2.resize(field, (width, height), interpolation=cv2.INTER_LINEAR)


def match_tones(
    reference: npt.NDArray[np.uint8], current: npt.NDArray[np.uint8], valid: BoolImage
) -> npt.NDArray[np.uint8]:
    """Remap each reference channel through the tone curve that best predicts the current image.

    The images are aligned, so every valid pixel is a pair (reference level, current level). For each
    band of reference levels the curve takes the median current level: changed pixels are outliers
    that move a median only when they are the majority of their band. The curve absorbs global gain,
    offset, gamma and colour cast of the light, and is kept monotone.
    """
    step = max(1, int(np.sqrt(valid.size / 60000)))  # ~60k pixel pairs are plenty
    sample = valid[::step, ::step]
    if sample.sum() < 256:
        return reference
    matched = np.empty_like(reference)
    for channel in range(reference.shape[2]):
        ref_values = reference[::step, ::step, channel][sample]
        cur_values = current[::step, ::step, channel][sample]
        lut = np.clip(np.round(_tone_curve(ref_values, cur_values)), 0, 255).astype(np.uint8)
        matched[..., channel] = cv2.LUT(reference[..., channel], lut)
    return matched


def _tone_curve(ref_values: npt.NDArray[np.uint8], cur_values: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    """256-entry monotone curve: median current level per band of reference levels, interpolated."""
    bands = ref_values.astype(np.int64) // _TONE_BAND
    band_count = 256 // _TONE_BAND
    joint = np.bincount(bands * 256 + cur_values, minlength=band_count * 256).reshape(band_count, 256)
    counts = joint.sum(axis=1)
    filled = counts >= _TONE_MIN_PIXELS
    if filled.sum() < 2:
        return np.arange(256, dtype=np.float64)  # too little overlap to learn a curve: leave as is
    cumulative = np.cumsum(joint[filled], axis=1)
    medians = np.argmax(cumulative >= (counts[filled] / 2)[:, None], axis=1).astype(np.float64)
    medians = _isotonic(medians, counts[filled].astype(np.float64))
    # Mean reference level of each band, so the curve passes through the right abscissa.
    level_sums = np.bincount(bands, weights=ref_values.astype(np.float64), minlength=band_count)
    centres = level_sums[filled] / counts[filled]
    levels = np.arange(256, dtype=np.float64)
    curve = np.interp(levels, centres, medians)
    # Beyond the learnt levels keep slope 1 rather than clamping, or a bright object seen only in one
    # image (a white board) would be flattened into the background's brightest level.
    curve[levels < centres[0]] = medians[0] + levels[levels < centres[0]] - centres[0]
    curve[levels > centres[-1]] = medians[-1] + levels[levels > centres[-1]] - centres[-1]
    return curve


def _isotonic(values: npt.NDArray[np.float64], weights: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Weighted least-squares non-decreasing fit (pool adjacent violators); a few small outlier
    bands are outvoted by their neighbours instead of dragging the whole curve up."""
    blocks: list[list[float]] = []  # [mean, weight, length]
    for value, weight in zip(values.tolist(), weights.tolist(), strict=True):
        blocks.append([value, weight, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean, weight_sum, length = blocks.pop()
            previous = blocks[-1]
            total = previous[1] + weight_sum
            blocks[-1] = [(previous[0] * previous[1] + mean * weight_sum) / total, total, previous[2] + length]
    return np.concatenate([np.full(int(length), mean) for mean, _, length in blocks])


def _chromaticity(image: npt.NDArray[np.uint8]) -> tuple[FloatImage, FloatImage]:
    """Blue and red shares of each pixel's intensity (green is what is left), lightly smoothed."""
    shifted = image.astype(np.float32) + _CHROMA_OFFSET
    total = shifted.sum(axis=2)
    blue = cv2.GaussianBlur(shifted[..., 0] / total, (0, 0), 1.5)
    red = cv2.GaussianBlur(shifted[..., 2] / total, (0, 0), 1.5)
    return blue, red


def _shifts(image: FloatImage, radius: int) -> Iterator[FloatImage]:
    """Yield ``image`` shifted by every offset within ``radius`` (edges replicated), zero shift first."""
    if radius <= 0:
        yield image
        return
    height, width = image.shape[:2]
    padded = cv2.copyMakeBorder(image, radius, radius, radius, radius, cv2.BORDER_REPLICATE)
    offsets = [(0, 0)] + [
        (dy, dx) for dy in range(-radius, radius + 1) for dx in range(-radius, radius + 1) if dy or dx
    ]
    for dy, dx in offsets:
        yield padded[radius + dy : radius + dy + height, radius + dx : radius + dx + width]
