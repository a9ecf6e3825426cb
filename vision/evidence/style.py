"""How evidence images look: text size, colours, box lines, how much context a crop keeps and how big it is."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

BGR = tuple[int, int, int]


@dataclass(frozen=True)
class EvidenceStyle:
    """Settings of the annotated frame and the crop.

    Attributes:
        font_fraction: Caption text size as a fraction of the frame's width (1/55: 35 px on a 1920 px frame).
        min_font_px: Smallest caption text, in pixels, however small the frame.
        band_colour: Background of the caption band under the frame.
        text_colour: Caption text colour.
        box_thickness_fraction: Box line width as a fraction of the frame's shorter side (at least 2 px).
        crop_margin: Context kept around the box in a crop, as a fraction of the box's width / height per side.
        crop_min_margin_px: Context kept per side at least, in source pixels.
        crop_min_side: A crop's shorter side is upscaled to at least this many pixels.
        crop_max_side: A crop's longer side is never more than this many pixels (upscaling stops, big crops shrink).
    """

    font_fraction: float = 1 / 55
    min_font_px: int = 14
    band_colour: BGR = (32, 32, 32)
    text_colour: BGR = (245, 245, 245)
    box_thickness_fraction: float = 1 / 360
    crop_margin: float = 0.25
    crop_min_margin_px: int = 8
    crop_min_side: int = 320
    crop_max_side: int = 1280

    def __post_init__(self) -> None:
        if not 0 < self.font_fraction < 1:
            raise ValueError(f"EvidenceStyle.font_fraction must be in (0, 1), got {self.font_fraction}")
        if self.min_font_px < 6:
            raise ValueError(f"EvidenceStyle.min_font_px must be >= 6, got {self.min_font_px}")
        if self.crop_margin < 0 or self.crop_min_margin_px < 0:
            raise ValueError("EvidenceStyle.crop_margin and crop_min_margin_px must be >= 0")
        if not 1 <= self.crop_min_side <= self.crop_max_side:
            raise ValueError(
                f"EvidenceStyle needs 1 <= crop_min_side <= crop_max_side, got {self.crop_min_side}, "
                f"{self.crop_max_side}"
            )


def check_image(image: npt.NDArray[np.uint8], what: str = "image") -> None:
    """Raise ``ValueError`` unless ``image`` is a non-empty ``(H, W, 3)`` uint8 BGR array."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or 0 in image.shape:
        raise ValueError(f"{what} must be a non-empty (H, W, 3) uint8 BGR array, got {image.shape} {image.dtype}")


def clip_box(box: npt.ArrayLike, width: int, height: int) -> tuple[float, float, float, float]:
    """The part of ``x1, y1, x2, y2`` inside a ``width`` x ``height`` image.

    Raises:
        ValueError: The box is not 4 finite numbers with ``x1 < x2`` and ``y1 < y2``, or lies outside the image.
    """
    values = np.asarray(box, dtype=np.float64).reshape(-1)
    if values.shape != (4,) or not np.all(np.isfinite(values)):
        raise ValueError(f"box must be 4 finite numbers x1, y1, x2, y2, got {box!r}")
    x1, y1, x2, y2 = (float(v) for v in values)
    if x2 <= x1 or y2 <= y1:
        raise ValueError(f"box {x1:g}, {y1:g}, {x2:g}, {y2:g} is empty: x2 must exceed x1 and y2 exceed y1")
    clipped = (max(x1, 0.0), max(y1, 0.0), min(x2, float(width)), min(y2, float(height)))
    if clipped[2] <= clipped[0] or clipped[3] <= clipped[1]:
        raise ValueError(f"box {x1:g}, {y1:g}, {x2:g}, {y2:g} lies outside the {width}x{height} image")
    return clipped
