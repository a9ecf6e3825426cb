"""Camera effects on a finished render: colour cast, rain, blur, noise, vignetting, JPEG."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
import numpy.typing as npt

from vision.synth.conditions import Conditions
from vision.synth.primitives import Image

_GRAIN_MARGIN = 64


@lru_cache(maxsize=2)
def _grain(width: int, height: int) -> npt.NDArray[np.float32]:
    """A fixed field of unit sensor noise, a little larger than the image; each image takes a random window of it."""
    rng = np.random.default_rng(1234)
    return rng.standard_normal((height + _GRAIN_MARGIN, width + _GRAIN_MARGIN, 3), dtype=np.float32)


@lru_cache(maxsize=4)
def _radius2(width: int, height: int) -> npt.NDArray[np.float32]:
    yy, xx = np.ogrid[:height, :width]
    return (((xx - width / 2) / (width / 2)) ** 2 + ((yy - height / 2) / (height / 2)) ** 2).astype(np.float32)


def apply_camera(image: Image, conditions: Conditions, rng: np.random.Generator) -> Image:
    """Return ``image`` as a real camera would have delivered it (before compression)."""
    h, w = image.shape[:2]
    gains = np.array(conditions.tint, np.float32) * conditions.exposure * (0.9 if conditions.wet else 1.0)
    vignette = 1.0 - 0.12 * float(rng.uniform(0, 1)) * _radius2(w, h)
    out = image.astype(np.float32)
    cv2.multiply(out, cv2.merge([vignette * float(g) for g in gains]), dst=out)
    if conditions.rain > 0:
        out = _rain(out, conditions.rain, rng)
    if conditions.defocus > 0:
        out = np.asarray(cv2.GaussianBlur(out, (0, 0), conditions.defocus), np.float32)
    if conditions.motion_blur_px >= 1.5:
        k = round(conditions.motion_blur_px)
        kernel = np.full((1, k), 1.0 / k, np.float32)
        out = np.asarray(cv2.filter2D(out, -1, kernel), np.float32)
    if conditions.noise_sigma > 0:
        dx, dy = (int(v) for v in rng.integers(0, _GRAIN_MARGIN, size=2))
        grain = _grain(w, h)[dy : dy + h, dx : dx + w]
        cv2.scaleAdd(grain, conditions.noise_sigma, out, dst=out)
    np.clip(out, 0, 255, out=out)
    return out.astype(np.uint8)


def _rain(image: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    h, w = image.shape[:2]
    streaks = np.zeros((h, w), np.float32)
    count = int(amount * w * h / 900)
    xs, ys = rng.integers(0, w, count), rng.integers(0, h, count)
    lengths = rng.integers(8, 25, count)
    slant = float(rng.normal(0, 0.2))
    for x, y, length in zip(xs, ys, lengths, strict=True):
        cv2.line(streaks, (int(x), int(y)), (int(x + slant * length), int(y + length)), 1.0, 1)
    streaks = cv2.GaussianBlur(streaks, (3, 3), 0) * 0.35
    return image * (1 - streaks[..., None]) + 215.0 * streaks[..., None]


def encode_jpeg(image: Image, quality: int) -> bytes:
    """JPEG bytes of a BGR image."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("OpenCV could not encode a JPEG")
    return data.tobytes()
