"""Pixel-level drawing into the image and the object-id buffer at once."""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt

from vision.synth.primitives import Color, Image

Points = npt.NDArray[np.float64]
_SHIFT = 4  # sub-pixel bits for cv2 polygon drawing
_SCALE = 1 << _SHIFT


class Painter:
    """Draws toned shapes into a BGR image and the same silhouettes into an id buffer.

    ``tone`` (shade and fog) is set by the renderer per primitive, so sprite drawers only pick base colours.
    """

    def __init__(self, width: int, height: int, fog_color: Color) -> None:
        self.image: Image = np.zeros((height, width, 3), np.uint8)
        self.ids = np.zeros((height, width), np.uint16)
        self.width, self.height = width, height
        self.fog_color = np.array(fog_color, np.float32)
        self._fog_rgb = (float(fog_color[0]), float(fog_color[1]), float(fog_color[2]))
        self.current_id = 0
        self.shade = 1.0
        self.fog = 0.0
        self._bbox: list[int] | None = None

    def begin(self, object_index: int) -> None:
        """Start painting object number ``object_index`` (its id in the buffer is ``object_index + 1``)."""
        self.current_id = object_index + 1
        self._bbox = None

    def drawn_bbox(self) -> tuple[int, int, int, int] | None:
        """Pixel bbox ``(x0, y0, x1, y1)`` (exclusive end) touched since ``begin``, or ``None``."""
        return None if self._bbox is None else (self._bbox[0], self._bbox[1], self._bbox[2], self._bbox[3])

    def set_tone(self, shade: float, fog: float) -> None:
        """Brightness factor and fog fraction for the next shapes."""
        self.shade, self.fog = shade, fog

    def toned(self, color: Color) -> tuple[float, float, float]:
        """A base colour after shade and fog."""
        k, f = self.shade * (1.0 - self.fog), self.fog
        fb, fg, fr = self._fog_rgb
        return (
            min(max(color[0] * k + fb * f, 0.0), 255.0),
            min(max(color[1] * k + fg * f, 0.0), 255.0),
            min(max(color[2] * k + fr * f, 0.0), 255.0),
        )

    def _touch(self, x0: float, y0: float, x1: float, y1: float) -> bool:
        ix0, iy0 = max(math.floor(x0), 0), max(math.floor(y0), 0)
        ix1, iy1 = min(math.ceil(x1) + 1, self.width), min(math.ceil(y1) + 1, self.height)
        if ix0 >= ix1 or iy0 >= iy1:
            return False
        if self._bbox is None:
            self._bbox = [ix0, iy0, ix1, iy1]
        else:
            b = self._bbox
            b[0], b[1], b[2], b[3] = min(b[0], ix0), min(b[1], iy0), max(b[2], ix1), max(b[3], iy1)
        return True

    def fill(self, points: Points, color: Color, bounds: tuple[float, float, float, float] | None = None) -> None:
        """Fill a polygon given in pixel coordinates ``(N, 2)`` (``bounds``: its known x0, y0, x1, y1)."""
        if len(points) < 3:
            return
        if bounds is None:
            (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
            bounds = (float(x0), float(y0), float(x1), float(y1))
        if not self._touch(*bounds):
            return
        pts = [np.round(points * _SCALE).astype(np.int32)]
        cv2.fillPoly(self.image, pts, self.toned(color), cv2.LINE_AA, _SHIFT)
        cv2.fillPoly(self.ids, pts, self.current_id, cv2.LINE_8, _SHIFT)

    def circle(self, cx: float, cy: float, radius: float, color: Color) -> None:
        """Fill a disc."""
        if not self._touch(cx - radius, cy - radius, cx + radius, cy + radius):
            return
        center = (round(cx * _SCALE), round(cy * _SCALE))
        r = max(round(radius * _SCALE), _SCALE // 2)
        cv2.circle(self.image, center, r, self.toned(color), -1, cv2.LINE_AA, _SHIFT)
        cv2.circle(self.ids, center, r, self.current_id, -1, cv2.LINE_8, _SHIFT)

    def ellipse(self, cx: float, cy: float, rx: float, ry: float, color: Color, angle: float = 0.0) -> None:
        """Fill an ellipse (axes in pixels, ``angle`` in degrees)."""
        if not self._touch(cx - max(rx, ry), cy - max(rx, ry), cx + max(rx, ry), cy + max(rx, ry)):
            return
        center = (round(cx * _SCALE), round(cy * _SCALE))
        axes = (max(round(rx * _SCALE), 1), max(round(ry * _SCALE), 1))
        cv2.ellipse(self.image, center, axes, angle, 0, 360, self.toned(color), -1, cv2.LINE_AA, _SHIFT)
        cv2.ellipse(self.ids, center, axes, angle, 0, 360, self.current_id, -1, cv2.LINE_8, _SHIFT)

    def line(self, x0: float, y0: float, x1: float, y1: float, thickness: float, color: Color) -> None:
        """Draw a thick line segment."""
        half = thickness / 2 + 1
        if not self._touch(min(x0, x1) - half, min(y0, y1) - half, max(x0, x1) + half, max(y0, y1) + half):
            return
        p = (round(x0 * _SCALE), round(y0 * _SCALE))
        q = (round(x1 * _SCALE), round(y1 * _SCALE))
        t = max(round(thickness), 1)
        cv2.line(self.image, p, q, self.toned(color), t, cv2.LINE_AA, _SHIFT)
        cv2.line(self.ids, p, q, self.current_id, t, cv2.LINE_8, _SHIFT)

    def blit(self, x0: int, y0: int, patch: Image, mask: npt.NDArray[np.uint8]) -> None:
        """Composite an already-toned patch through an 8-bit coverage mask at pixel ``(x0, y0)``."""
        h, w = mask.shape
        if not self._touch(x0, y0, x0 + w - 1, y0 + h - 1):
            return
        roi = self.image[y0 : y0 + h, x0 : x0 + w]
        if w * h > 40000:
            cv2.copyTo(patch, mask, roi)
        else:
            alpha = mask.astype(np.float32) * (1.0 / 255.0)
            roi[...] = cv2.blendLinear(patch, roi, alpha, 1.0 - alpha)
        self.ids[y0 : y0 + h, x0 : x0 + w][mask >= 128] = self.current_id

    def darken(self, mask: npt.NDArray[np.uint8], factor: float) -> None:
        """Multiply the image by ``factor`` where ``mask`` (0-255) is set: ground shadows."""
        weight = 1.0 - (1.0 - factor) * mask.astype(np.float32) * (1.0 / 255.0)
        self.image[...] = np.clip(self.image.astype(np.float32) * weight[..., None], 0, 255).astype(np.uint8)
