"""Text on BGR images through Pillow, so Chinese renders where a CJK font exists and Latin text everywhere."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from vision.fonts import cjk_font_path, covers, load_font

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont

Image = npt.NDArray[np.uint8]
BGR = tuple[int, int, int]


class TextPainter:
    """Draws single lines of text of one pixel size, with the best font the machine has for each line.

    The CJK font (when there is one) is tried first, then Pillow's built-in Latin font; a character neither font
    has is drawn as ``?`` rather than as an empty box.
    """

    def __init__(self, size_px: int) -> None:
        """Load the fonts.

        Args:
            size_px: Font size in pixels (roughly the height of a capital letter plus descender).
        """
        if size_px < 1:
            raise ValueError(f"font size must be >= 1 pixel, got {size_px}")
        self.size_px = size_px
        fonts: list[FreeTypeFont] = []
        path = cjk_font_path()
        if path is not None:
            with contextlib.suppress(OSError):  # an unreadable font file: behave as if there were none
                fonts.append(load_font(path, size_px))
        fonts.append(load_font(None, size_px))
        self._fonts = tuple(fonts)

    def can_draw(self, text: str) -> bool:
        """Whether some font draws every character of ``text`` (``False`` for Chinese without a CJK font)."""
        return any(covers(font, text) for font in self._fonts)

    @property
    def line_height(self) -> int:
        """Pixels from the top of one line to the top of the next."""
        ascent, descent = self._fonts[0].getmetrics()
        return int(ascent + descent) + max(2, self.size_px // 6)

    def width(self, text: str) -> int:
        """Width in pixels of ``text`` as :meth:`draw` draws it."""
        font, shown = self._pick(text)
        return int(np.ceil(font.getlength(shown)))

    def draw(self, canvas: Image, text: str, origin: tuple[int, int], colour: BGR) -> None:
        """Draw ``text`` with its top-left corner at ``origin``, in place, clipped to the canvas."""
        from PIL import Image as PILImage
        from PIL import ImageDraw

        font, shown = self._pick(text)
        x, y = origin
        x0, y0 = max(x, 0), max(y, 0)
        x1 = min(x + self.width(text) + 2, canvas.shape[1])
        y1 = min(y + self.line_height, canvas.shape[0])
        if x0 >= x1 or y0 >= y1:
            return
        patch = PILImage.fromarray(np.ascontiguousarray(canvas[y0:y1, x0:x1, ::-1]))
        ImageDraw.Draw(patch).text((x - x0, y - y0), shown, fill=colour[::-1], font=font)
        canvas[y0:y1, x0:x1] = np.asarray(patch)[..., ::-1]

    def _pick(self, text: str) -> tuple[FreeTypeFont, str]:
        for font in self._fonts:
            if covers(font, text):
                return font, text
        # No font has them all: the one with the most, unknown characters as "?".
        best = max(self._fonts, key=lambda font: sum(covers(font, char) for char in text))
        return best, "".join(char if covers(best, char) else "?" for char in text)
