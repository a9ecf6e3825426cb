"""Drawing detections on images, for annotated output and evidence."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from vision.detections import Detections

# A fixed palette (BGR) so a class keeps its colour across images and runs.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (56, 56, 255),
    (151, 157, 255),
    (31, 112, 255),
    (29, 178, 255),
    (49, 210, 207),
    (10, 249, 72),
    (23, 204, 146),
    (134, 219, 61),
    (211, 188, 0),
    (255, 149, 0),
    (255, 56, 132),
    (199, 55, 255),
)


def class_colour(class_id: int) -> tuple[int, int, int]:
    """Return the BGR colour used for a class id."""
    return PALETTE[class_id % len(PALETTE)]


def draw_detections(
    image: npt.NDArray[np.uint8],
    detections: Detections,
    names: Sequence[str],
    *,
    caption: str | None = None,
) -> npt.NDArray[np.uint8]:
    """Return a copy of ``image`` with each box, its class name and confidence drawn on it.

    Args:
        image: ``(H, W, 3)`` uint8 BGR image.
        detections: Boxes in the image's pixels.
        names: Class names indexed by class id.
        caption: Optional line of text drawn in the top-left corner (source, time, ...).
    """
    canvas = image.copy()
    scale = max(0.4, min(canvas.shape[:2]) / 900)
    thickness = max(1, round(scale * 2))
    for box, score, class_id in zip(detections.xyxy, detections.confidence, detections.class_id, strict=True):
        x1, y1, x2, y2 = np.round(box).astype(int).tolist()
        colour = class_colour(int(class_id))
        cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, thickness, cv2.LINE_AA)
        name = names[class_id] if 0 <= class_id < len(names) else str(class_id)
        _label(canvas, f"{name} {score:.2f}", (x1, y1), colour, scale)
    if caption:
        _label(canvas, caption, (0, 0), (40, 40, 40), scale, below=True)
    return canvas


def _label(
    canvas: npt.NDArray[np.uint8],
    text: str,
    corner: tuple[int, int],
    colour: tuple[int, int, int],
    scale: float,
    *,
    below: bool = False,
) -> None:
    font = cv2.FONT_HERSHEY_SIMPLEX
    (width, height), baseline = cv2.getTextSize(text, font, scale * 0.6, 1)
    x, y = corner
    top = y if below or y - height - baseline - 4 < 0 else y - height - baseline - 4
    cv2.rectangle(canvas, (x, top), (x + width + 4, top + height + baseline + 4), colour, -1)
    luminance = 0.114 * colour[0] + 0.587 * colour[1] + 0.299 * colour[2]
    text_colour = (0, 0, 0) if luminance > 140 else (255, 255, 255)
    cv2.putText(canvas, text, (x + 2, top + height + 2), font, scale * 0.6, text_colour, 1, cv2.LINE_AA)
