"""The tight crop: the object with a little context, big enough for a reviewer to see it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from vision.evidence.style import EvidenceStyle, check_image, clip_box

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True, eq=False)
class EvidenceCrop:
    """A crop and where it came from.

    Attributes:
        image: The (resized) crop, BGR uint8.
        window: ``x1, y1, x2, y2`` of the cropped area in the frame's pixels (x2, y2 exclusive).
        scale: Crop pixels per frame pixel (> 1 when upscaled).
    """

    image: Image
    window: tuple[int, int, int, int]
    scale: float


class EvidenceCropper:
    """Cuts an object out of its frame with a margin and resizes it to a reviewable size."""

    def __init__(self, style: EvidenceStyle | None = None) -> None:
        """Keep the style.

        Args:
            style: Margin and size limits; ``None`` uses the defaults.
        """
        self.style = style or EvidenceStyle()

    def crop(self, image: Image, box: npt.ArrayLike) -> EvidenceCrop:
        """Crop ``box`` plus margin (clipped to the frame), then scale to the style's size limits.

        The shorter side is upscaled to ``crop_min_side`` unless that would make the longer side exceed
        ``crop_max_side``; a crop already longer than ``crop_max_side`` is shrunk to it.

        Args:
            image: ``(H, W, 3)`` uint8 BGR frame.
            box: ``x1, y1, x2, y2`` of the object in the frame's pixels.

        Raises:
            ValueError: The image is not BGR uint8, or the box is empty, not finite or outside the frame.
        """
        check_image(image, "evidence frame")
        window = self._window(image, box)
        x1, y1, x2, y2 = window
        patch = image[y1:y2, x1:x2]
        short_side, long_side = sorted(patch.shape[:2])
        scale = min(max(1.0, self.style.crop_min_side / short_side), self.style.crop_max_side / long_side)
        if scale == 1.0:
            return EvidenceCrop(patch.copy(), window, 1.0)
        size = (max(1, round(patch.shape[1] * scale)), max(1, round(patch.shape[0] * scale)))
        interpolation = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
        resized = np.asarray(cv2.resize(patch, size, interpolation=interpolation), np.uint8)
        return EvidenceCrop(resized, window, scale)

    def _window(self, image: Image, box: npt.ArrayLike) -> tuple[int, int, int, int]:
        height, width = image.shape[:2]
        x1, y1, x2, y2 = clip_box(box, width, height)
        margin_x = max(self.style.crop_min_margin_px, self.style.crop_margin * (x2 - x1))
        margin_y = max(self.style.crop_min_margin_px, self.style.crop_margin * (y2 - y1))
        return (
            max(0, math.floor(x1 - margin_x)),
            max(0, math.floor(y1 - margin_y)),
            min(width, math.ceil(x2 + margin_x)),
            min(height, math.ceil(y2 + margin_y)),
        )
