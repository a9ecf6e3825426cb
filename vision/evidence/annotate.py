"""The annotated full frame: the object boxed and labelled, the facts in a caption band under the picture."""

from __future__ import annotations

import re

import cv2
import numpy as np
import numpy.typing as npt

from vision.draw import class_colour
from vision.evidence.caption import EvidenceCaption, box_label, caption_lines, chinese_text
from vision.evidence.style import BGR, EvidenceStyle, check_image, clip_box
from vision.evidence.text import TextPainter

Image = npt.NDArray[np.uint8]
_SMALLEST_FITTED_FONT_PX = 10  # smaller text is not worth having


class FrameAnnotator:
    """Draws one object's box, label and caption on a copy of its frame.

    Chinese class names and labels are used when the machine has a CJK font that draws them (see
    :func:`vision.fonts.cjk_font_path`), English otherwise.
    """

    def __init__(self, style: EvidenceStyle | None = None) -> None:
        """Keep the style.

        Args:
            style: Text size, colours and line widths; ``None`` uses the defaults.
        """
        self.style = style or EvidenceStyle()

    def annotate(self, image: Image, box: npt.ArrayLike, caption: EvidenceCaption) -> Image:
        """Return the frame with the box drawn and a caption band appended below it.

        Args:
            image: ``(H, W, 3)`` uint8 BGR frame (not modified).
            box: ``x1, y1, x2, y2`` of the object in the frame's pixels; parts outside the frame are clipped.
            caption: What to write: class, confidence, time, camera, location.

        Returns:
            A BGR image as wide as the frame and taller by the caption band.

        Raises:
            ValueError: The image is not BGR uint8, or the box is empty, not finite or outside the frame.
        """
        check_image(image, "evidence frame")
        height, width = image.shape[:2]
        x1, y1, x2, y2 = clip_box(box, width, height)
        painter = TextPainter(max(self.style.min_font_px, round(width * self.style.font_fraction)))
        chinese = painter.can_draw(chinese_text(caption))
        canvas = image.copy()
        colour = class_colour(caption.class_id)
        thickness = max(2, round(min(height, width) * self.style.box_thickness_fraction))
        corners = (round(x1), round(y1)), (round(x2) - 1, round(y2) - 1)
        cv2.rectangle(canvas, corners[0], corners[1], colour, thickness, cv2.LINE_AA)
        self._label(canvas, box_label(caption, chinese=chinese), corners, colour, painter.size_px)
        band = self._band(caption_lines(caption, chinese=chinese), width, painter)
        return np.vstack([canvas, band])

    def _label(
        self, canvas: Image, text: str, corners: tuple[tuple[int, int], tuple[int, int]], colour: BGR, size_px: int
    ) -> None:
        """The class and confidence on a tag in the class colour, above the box (inside it when at the top)."""
        painter = TextPainter(max(_SMALLEST_FITTED_FONT_PX, round(size_px * 0.8)))
        tag_width, tag_height = painter.width(text) + 8, painter.line_height + 2
        (left, top), _ = corners
        top = top - tag_height if top - tag_height >= 0 else top
        left = min(left, max(canvas.shape[1] - tag_width, 0))
        cv2.rectangle(canvas, (left, top), (left + tag_width, top + tag_height), colour, cv2.FILLED)
        painter.draw(canvas, text, (left + 4, top + 1), _readable_on(colour))

    def _band(self, lines: tuple[str, ...], width: int, painter: TextPainter) -> Image:
        """Dark band with the caption lines; text shrinks (to a readable floor) and then wraps to fit the width."""
        margin = max(4, painter.size_px // 2)
        room = max(1, width - 2 * margin)
        widest = max(painter.width(line) for line in lines)
        if widest > room:
            painter = TextPainter(max(_SMALLEST_FITTED_FONT_PX, int(painter.size_px * room / widest)))
        rows = [row for line in lines for row in _wrapped(line, painter, room)]
        band = np.full((painter.line_height * len(rows) + 2 * margin, width, 3), self.style.band_colour, np.uint8)
        for index, row in enumerate(rows):
            painter.draw(band, row, (margin, margin + index * painter.line_height), self.style.text_colour)
        return band


def _wrapped(line: str, painter: TextPainter, room: int) -> list[str]:
    """Split ``line`` into rows no wider than ``room``: at spaces, else between characters (Chinese has no spaces)."""
    rows: list[str] = []
    current = ""
    for word in re.split(r"(?<= )", line):
        if painter.width(current + word) <= room:
            current += word
            continue
        if current:
            rows.append(current.rstrip())
        current = ""
        for char in word:
            if current and painter.width(current + char) > room:
                rows.append(current)
                current = ""
            current += char
    if current.strip():
        rows.append(current.rstrip())
    return rows or [line]


def _readable_on(colour: BGR) -> BGR:
    """Black or white, whichever reads better on a BGR background."""
    luminance = 0.114 * colour[0] + 0.587 * colour[1] + 0.299 * colour[2]
    return (0, 0, 0) if luminance > 140 else (255, 255, 255)
