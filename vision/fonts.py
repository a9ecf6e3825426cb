"""Fonts for text that OpenCV cannot draw: Chinese glyphs from a CJK font when the machine has one.

``cv2.putText`` only knows ASCII, so anything with Chinese in it (synthetic signboards, evidence captions) is drawn
with Pillow. Set ``XIUHUA_CJK_FONT`` to a font file to force one, or to ``none`` to act as if there were none.
"""

from __future__ import annotations

import glob
import os
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont

CJK_FONT_ENV = "XIUHUA_CJK_FONT"
# Font families with CJK coverage, in order of preference, as file-name patterns under /usr/share/fonts.
_CJK_PATTERNS = ("*NotoSansCJK*", "*NotoSerifCJK*", "*wqy*", "*WenQuanYi*", "*DroidSansFallback*", "*SourceHan*")
_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")
# A code point no font draws: its rendering is the font's "missing glyph" box.
_NOT_A_CHARACTER = "\uffff"


def cjk_font_path() -> str | None:
    """The CJK font file to use: ``$XIUHUA_CJK_FONT``, else the first one installed, else ``None``.

    ``XIUHUA_CJK_FONT=none`` (any case) gives ``None`` even when a font is installed, to test the fallback.
    """
    forced = os.environ.get(CJK_FONT_ENV, "")
    if forced.lower() == "none":
        return None
    if forced:
        return forced
    return _installed_cjk_font()


@lru_cache(maxsize=1)
def _installed_cjk_font() -> str | None:
    # Searched once per process: every evidence caption asks, and the search walks the font folders (~1 ms+).
    for pattern in _CJK_PATTERNS:
        for folder in _FONT_DIRS:
            hits = sorted(glob.glob(f"{folder}/**/{pattern}", recursive=True))
            if hits:
                return hits[0]
    return None


@lru_cache(maxsize=32)
def load_font(path: str | None, size_px: int) -> FreeTypeFont:
    """A Pillow font of ``size_px`` pixels from ``path``, or Pillow's built-in Latin font for ``None``.

    Raises:
        OSError: The file cannot be read as a font.
    """
    from PIL import ImageFont

    if path is None:
        font = ImageFont.load_default(size_px)
        if not isinstance(font, ImageFont.FreeTypeFont):  # Pillow without FreeType: bitmap only, no sizes
            raise OSError("Pillow was built without FreeType; scalable text needs it")
        return font
    return ImageFont.truetype(path, size_px)


def covers(font: FreeTypeFont, text: str) -> bool:
    """Whether ``font`` has a glyph for every non-space character of ``text``."""
    return all(_has_glyph(font, char) for char in set(text) if not char.isspace())


@lru_cache(maxsize=4096)
def _has_glyph(font: FreeTypeFont, char: str) -> bool:
    # Fonts draw a missing character as their "missing glyph" box: compare with a code point nobody draws.
    return not np.array_equal(_rendered(font, char), _rendered(font, _NOT_A_CHARACTER))


def _rendered(font: FreeTypeFont, char: str) -> np.ndarray:
    from PIL import Image, ImageDraw

    size = int(font.size) * 2 + 4
    image = Image.new("L", (size, size), 0)
    ImageDraw.Draw(image).text((2, 2), char, fill=255, font=font)
    return np.asarray(image)
