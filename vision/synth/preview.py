"""A labelled contact sheet of synthetic images, for a person to judge whether they look right."""

from __future__ import annotations

import math

import cv2
import numpy as np

from vision.synth.classes import CLASS_NAMES
from vision.synth.primitives import Image
from vision.synth.sample import DEFAULT_SIZE, Sample, make_sample

# One fixed colour per class (BGR), readable on street colours.
CLASS_COLORS: tuple[tuple[int, int, int], ...] = (
    (0, 0, 255), (0, 165, 255), (0, 255, 255), (255, 0, 255), (255, 255, 0), (0, 255, 0),
    (255, 128, 0), (128, 0, 255), (255, 255, 255), (255, 0, 0), (0, 128, 128),
)  # fmt: skip


def annotate(sample: Sample) -> Image:
    """The sample's image with its labelled boxes and class names drawn on."""
    image = sample.image.copy()
    for (x0, y0, x1, y1), class_id in zip(sample.truth.xyxy.tolist(), sample.truth.class_id.tolist(), strict=True):
        color = CLASS_COLORS[class_id % len(CLASS_COLORS)]
        p, q = (int(x0), int(y0)), (int(x1) - 1, int(y1) - 1)
        cv2.rectangle(image, p, q, color, 1)
        name = CLASS_NAMES[class_id]
        (tw, th), _ = cv2.getTextSize(name, cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1)
        y = max(int(y0) - 2, th + 2)
        cv2.rectangle(image, (int(x0), y - th - 2), (int(x0) + tw + 2, y + 1), (0, 0, 0), -1)
        cv2.putText(image, name, (int(x0) + 1, y - 1), cv2.FONT_HERSHEY_SIMPLEX, 0.4, color, 1, cv2.LINE_AA)
    caption = f"{sample.view.kind} / {sample.conditions.weather} / {len(sample.truth)} boxes"
    cv2.putText(image, caption, (6, image.shape[0] - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(image, caption, (6, image.shape[0] - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return image


def contact_sheet(seed: int, count: int = 16, size: tuple[int, int] = DEFAULT_SIZE, columns: int = 4) -> Image:
    """Images ``0 .. count-1`` of dataset ``seed``, annotated, in a grid (full resolution tiles)."""
    tiles = [annotate(make_sample(seed, index, size)) for index in range(count)]
    columns = max(min(columns, count), 1)
    rows = math.ceil(count / columns)
    h, w = tiles[0].shape[:2]
    sheet = np.full((rows * (h + 4), columns * (w + 4), 3), 40, np.uint8)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, columns)
        sheet[r * (h + 4) : r * (h + 4) + h, c * (w + 4) : c * (w + 4) + w] = tile
    return sheet
