"""Per-pixel change scores between an aligned reference and the current image, blind to lighting.

Two cues, each robust to a different nuisance:

* structure: SSIM's contrast-structure term on log intensity. Log turns a change of light (gain) into an
  offset that the local means remove, so global and smooth light changes, soft shadows and gamma barely
  move it; texture appearing, vanishing or changing does.
* colour: log-chromaticity (colour with intensity divided out), which catches flat objects of a new
  colour; differences along the pair's own line of light colour (sun versus sky-lit shadow) count less.

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
# Spread (standard deviation, log-chromaticity) of unchanged pixels' colour differences along one line
# that says the light changed colour across the view.
_LIGHT_LINE_SPREAD = 0.008
# Daylight's blue-yellow line in (log B/G, log R/G): bluer and less red, or the reverse.
_DAYLIGHT_LINE = (np.float32(np.sqrt(0.5)), np.float32(-np.sqrt(0.5)))
# Largest log ratio of light the shadow filter represents (e^2.5 = 12x).
_RATIO_RANGE = 2.5
# Width in levels of a band of the tone curve, and the fewest pixels a band needs to count.
_TONE_BAND = 8
_TONE_MIN_PIXELS = 24
_LIGHT_PASSES = 3
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
    # A first, rough look (no forgiven shift) only decides which pixels the light is learnt from.
    evidence = structure_change(ref_gray, planes, settings, relight=True, shift_radius=0)
    evidence[~valid] = 0.0
    # Learn the light change only where nothing changed, or a large removed object would teach the
    # tone curve to turn its colours into the background's. Each pass compares with the relit reference,
    # which reveals more of what changed, so the light is learnt again until the changed area stops growing.
    excluded = _grow(evidence > settings.threshold)
    for _ in range(_LIGHT_PASSES):
        matched = match_light(reference, current, valid & ~excluded)
        matched_gray = _gray(matched)
        colour = colour_change(matched, planes, settings, valid & ~excluded)
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
        chroma: ``log(B/G)`` and ``log(R/G)``, lightly smoothed.
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
        return cls(log, mean, variance, _log_chroma(current))


def structure_change(
    reference: npt.NDArray[np.uint8],
    current: CurrentPlanes,
    settings: CompareSettings,
    *,
    relight: bool,
    shift_radius: int | None = None,
) -> FloatImage:
    """How much the local structure of log intensity changed, best over small shifts; ``(h, w)`` in ``[0, 1]``.

    Per window: where both images are textured (standard deviation above the noise floor), the change is
    ``1 -`` their correlation, which is blind to any local gain and offset of the light (shade, haze);
    where only one is textured, texture appeared or vanished and the change is 1; where neither is, 0.

    With ``relight`` the reference is first relit by the edge-preserving local light ratio
    (:func:`_edge_preserving_ratio`), which explains away sharp steps of light. ``shift_radius``
    overrides the settings' forgiven misalignment.
    """
    log_ref = np.log(reference.astype(np.float32) + _LOG_OFFSET)
    if relight and settings.shadow_kernel > 1:
        log_ref = log_ref + _edge_preserving_ratio(current.log - log_ref, settings.shadow_kernel)
    mean_ref = _window(log_ref, settings)
    var_ref = np.maximum(_window(log_ref * log_ref, settings) - mean_ref * mean_ref, 0.0)
    floor = np.float32(settings.noise_floor**2)
    spread_cur, spread_ref = np.sqrt(current.variance), np.sqrt(var_ref)
    textured_cur, textured_ref = current.variance / (current.variance + floor), var_ref / (var_ref + floor)
    best = np.full(log_ref.shape, np.inf, np.float32)
    radius = settings.shift_radius if shift_radius is None else shift_radius
    for shifted_log, shifted_mean, shifted_spread, shifted_textured in zip(
        _shifts(log_ref, radius),
        _shifts(mean_ref, radius),
        _shifts(spread_ref, radius),
        _shifts(textured_ref, radius),
        strict=True,
    ):
        covariance = _window(current.log * shifted_log, settings) - current.mean * shifted_mean
        disagreement = 1.0 - covariance / (spread_cur * shifted_spread + np.float32(1e-6))
        np.clip(disagreement, 0.0, 1.0, out=disagreement)
        disagreement *= np.minimum(textured_cur, shifted_textured)
        disagreement += np.abs(textured_cur - shifted_textured)
        np.minimum(best, disagreement, out=best)
    return np.minimum(best, 1.0, out=best)


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


def colour_change(
    reference: npt.NDArray[np.uint8],
    current: CurrentPlanes,
    settings: CompareSettings,
    usable: BoolImage | None = None,
) -> FloatImage:
    """Change of log-chromaticity mapped to ``[0, 1]``, smallest over small shifts; ``(h, w)``.

    A change of light can change colours too, along one line in log-chromaticity (sun is yellower than the
    blue sky that lights a shadow). When the colour differences of the ``usable`` (unchanged) pixels clearly
    line up, differences along that line count only ``light_colour_weight`` as much as those across it;
    when they do not, differences along daylight's blue-yellow line are discounted only half as much (a red
    banner lies on that line too).
    """
    ref_u, ref_v = _log_chroma(reference)
    cur_u, cur_v = current.chroma
    line = _light_line(cur_u - ref_u, cur_v - ref_v, usable)
    # Without a line of its own, the pair's light may still have shifted along daylight's blue-yellow line
    # a little: that is discounted half as much.
    along_u, along_v = line if line is not None else _DAYLIGHT_LINE
    weight = np.float32(settings.light_colour_weight)
    if line is None:
        weight = np.float32((1.0 + settings.light_colour_weight) / 2)
    best = np.full(cur_u.shape, np.inf, np.float32)
    for shifted_u, shifted_v in zip(
        _shifts(ref_u, settings.shift_radius), _shifts(ref_v, settings.shift_radius), strict=True
    ):
        delta_u, delta_v = cur_u - shifted_u, cur_v - shifted_v
        along = (delta_u * along_u + delta_v * along_v) * weight
        across = delta_v * along_u - delta_u * along_v
        np.minimum(best, cv2.magnitude(along, across), out=best)
    span = max(settings.chroma_high - settings.chroma_low, 1e-6)
    return np.clip((best - settings.chroma_low) / span, 0.0, 1.0)


def _light_line(
    delta_u: FloatImage, delta_v: FloatImage, usable: BoolImage | None
) -> tuple[np.float32, np.float32] | None:
    """Unit direction in (log B/G, log R/G) along which a change of light moved the colours, if it did.

    The principal axis of the colour differences of unchanged pixels, when they spread clearly (beyond
    noise) and mostly along one line: a light that shades parts of the view in different colours.
    """
    if usable is None:
        return None
    step = max(1, int(np.sqrt(usable.size / 20000)))
    mask = usable[::step, ::step]
    samples = np.stack([delta_u[::step, ::step][mask], delta_v[::step, ::step][mask]], axis=1).astype(np.float64)
    if len(samples) < 200:
        return None
    samples -= np.median(samples, axis=0)
    samples = samples[np.linalg.norm(samples, axis=1) < 0.5]  # changes of paint are not light
    if len(samples) < 200:
        return None
    values, vectors = np.linalg.eigh(samples.T @ samples / len(samples))
    if values[1] < _LIGHT_LINE_SPREAD**2 or values[1] < 2.0 * max(values[0], 1e-12):
        return None
    return np.float32(vectors[0, 1]), np.float32(vectors[1, 1])


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
    """Smooth per-channel field of the log ratio: a quadratic surface fitted robustly to usable pixels.

    Quadratic, not local: it follows ramps, vignetting and light falling off across the view, but cannot
    bend around a compact object, so a new sign keeps its colour instead of being taken for light.
    """
    height, width = usable.shape
    step = max(1, int(np.sqrt(usable.size / 6000)))  # ~6k samples are plenty for 18 coefficients
    ys, xs = np.nonzero(usable[::step, ::step])
    if len(xs) < 50:
        return np.zeros(log_ratio.shape, np.float32)
    values = log_ratio[::step, ::step][ys, xs].astype(np.float64)
    design = _quadratic_basis(xs * step / width - 0.5, ys * step / height - 0.5)
    weights = np.ones(len(xs))
    for _ in range(4):  # iteratively reweighted least squares; changed pixels are outliers
        weighted = design * weights[:, None]
        coefficients = np.linalg.solve(weighted.T @ design + 1e-6 * np.eye(design.shape[1]), weighted.T @ values)
        residual = np.linalg.norm(values - design @ coefficients, axis=1)
        scale = max(1.4826 * float(np.median(residual)), 1e-3)
        weights = 1.0 / (1.0 + (residual / (2.0 * scale)) ** 2)
    cols, rows = max(2, width // 8), max(2, height // 8)
    grid_x, grid_y = np.meshgrid(np.linspace(-0.5, 0.5, cols), np.linspace(-0.5, 0.5, rows))
    coarse = (_quadratic_basis(grid_x.ravel(), grid_y.ravel()) @ coefficients).reshape(rows, cols, -1)
    return cv2.resize(coarse.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)


def _quadratic_basis(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=1)


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


def _log_chroma(image: npt.NDArray[np.uint8]) -> tuple[FloatImage, FloatImage]:
    """``log(B/G)`` and ``log(R/G)`` of each pixel (intensity divided out), lightly smoothed."""
    channels = cv2.GaussianBlur(image.astype(np.float32), (0, 0), 1.0) + np.float32(_CHROMA_OFFSET)
    log_channels = np.log(channels)
    return log_channels[..., 0] - log_channels[..., 1], log_channels[..., 2] - log_channels[..., 1]


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
