"""Printed surfaces with Chinese-looking text: signboards, banners, posters, window stickers, ad boards."""

from __future__ import annotations

import functools
from collections.abc import Callable

import cv2
import numpy as np

from vision.synth.glyphs import latin_mask, paste, phone_number, pinyin_word, text_mask
from vision.synth.primitives import Color, Image
from vision.synth.textures import jitter_color, noise, tinted

# (background, text) BGR pairs seen on shop signs.
SIGN_SCHEMES: tuple[tuple[Color, Color], ...] = (
    ((30, 30, 190), (60, 220, 250)),  # red / yellow
    ((30, 30, 190), (245, 245, 245)),  # red / white
    ((150, 80, 20), (245, 245, 245)),  # blue / white
    ((235, 235, 235), (30, 30, 200)),  # white / red
    ((235, 235, 235), (40, 40, 40)),  # white / black
    ((40, 200, 240), (30, 30, 180)),  # yellow / red
    ((60, 130, 30), (245, 245, 245)),  # green / white
    ((25, 25, 25), (80, 190, 230)),  # black / gold
    ((30, 110, 230), (250, 250, 250)),  # orange / white
    ((110, 60, 120), (240, 240, 240)),  # purple / white
)
BANNER_SCHEMES: tuple[tuple[Color, Color], ...] = (
    ((35, 35, 200), (70, 225, 250)),
    ((35, 35, 200), (250, 250, 250)),
    ((40, 30, 180), (60, 210, 245)),
    ((160, 90, 20), (250, 250, 250)),
    ((240, 240, 240), (30, 30, 200)),
    ((40, 190, 235), (30, 30, 190)),
)
PAPER: tuple[Color, ...] = ((245, 245, 245), (150, 235, 250), (200, 200, 250), (240, 215, 190), (200, 245, 210))


_MIN_PX = 24


def _min_size(
    make: Callable[[np.random.Generator, int, int], Image],
) -> Callable[[np.random.Generator, int, int], Image]:
    """Let a print be asked for at any size: tiny ones are made at a workable size and shrunk."""

    @functools.wraps(make)
    def wrapper(rng: np.random.Generator, w: int, h: int) -> Image:
        w, h = max(int(w), 1), max(int(h), 1)
        if w >= _MIN_PX and h >= _MIN_PX:
            return make(rng, w, h)
        k = _MIN_PX / min(w, h)
        big = make(rng, int(np.ceil(w * k)), int(np.ceil(h * k)))
        return np.asarray(cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA), np.uint8)

    return wrapper


def _centered_text(
    rng: np.random.Generator, canvas: Image, count: int, cell: int, color: Color, cy: int, vertical: bool = False
) -> None:
    mask = text_mask(rng, count, cell, bold=True, vertical=vertical)
    h, w = canvas.shape[:2]
    mh, mw = mask.shape
    if mw > w * 0.95 or mh > h * 0.95:
        factor = min(w * 0.95 / mw, h * 0.95 / mh)
        size = (max(int(mw * factor), 1), max(int(mh * factor), 1))
        mask = np.asarray(cv2.resize(mask, size, interpolation=cv2.INTER_AREA), np.uint8)
        mh, mw = mask.shape
    col = (int(color[0]), int(color[1]), int(color[2]))
    paste(canvas, mask, (w - mw) // 2, cy - mh // 2, col)


def _background(rng: np.random.Generator, w: int, h: int, color: Color, grain: float = 0.12) -> Image:
    return tinted(jitter_color(rng, color, 10), noise(rng, h, w, 4, 2), grain)


@_min_size
def signboard(rng: np.random.Generator, w: int, h: int) -> Image:
    """A shop signboard: big characters, often a logo and a smaller line (pinyin or phone)."""
    bg, fg = SIGN_SCHEMES[int(rng.integers(len(SIGN_SCHEMES)))]
    img = _background(rng, w, h, bg)
    if rng.random() < 0.5:
        cv2.rectangle(img, (2, 2), (w - 3, h - 3), jitter_color(rng, fg, 5), max(h // 25, 1))
    count = int(rng.integers(2, 8))
    cell = int(h * rng.uniform(0.45, 0.7))
    count = max(min(count, int(w * 0.85 // (cell * 1.1))), 1)
    small_line = rng.random() < 0.5
    cy = int(h * (0.42 if small_line else 0.5))
    _centered_text(rng, img, count, cell, fg, cy)
    if small_line:
        word = pinyin_word(rng) if rng.random() < 0.5 else phone_number(rng)
        mask = latin_mask(word, max(h // 7, 6), max(h // 40, 1))
        if mask.shape[1] < w:
            paste(img, mask, (w - mask.shape[1]) // 2, int(h * 0.8), (int(fg[0]), int(fg[1]), int(fg[2])))
    if rng.random() < 0.4 and w > 2 * h:
        r = int(h * 0.3)
        cv2.circle(img, (int(h * 0.5), h // 2), r, jitter_color(rng, fg, 20), -1)
    return img


@_min_size
def banner(rng: np.random.Generator, w: int, h: int) -> Image:
    """A cloth banner with one line of characters and cloth folds."""
    bg, fg = BANNER_SCHEMES[int(rng.integers(len(BANNER_SCHEMES)))]
    img = _background(rng, w, h, bg, 0.08)
    cell = int(h * rng.uniform(0.55, 0.75))
    count = max(int(w * rng.uniform(0.6, 0.92) // (cell * 1.1)), 1)
    _centered_text(rng, img, count, cell, fg, h // 2)
    x = np.arange(w, dtype=np.float32)
    folds = 0.88 + 0.12 * np.sin(x / max(w, 1) * rng.uniform(8, 30) + noise(rng, 1, w, 6, 1)[0] * 6)
    return np.clip(img * folds[None, :, None], 0, 255).astype(np.uint8)


@_min_size
def vertical_banner(rng: np.random.Generator, w: int, h: int) -> Image:
    """A tall cloth banner with a column of characters."""
    bg, fg = BANNER_SCHEMES[int(rng.integers(len(BANNER_SCHEMES)))]
    img = _background(rng, w, h, bg, 0.08)
    cell = int(w * 0.7)
    count = max(int(h * 0.9 // (cell * 1.1)), 1)
    mask = text_mask(rng, count, cell, bold=True, vertical=True)
    paste(img, mask, (w - cell) // 2, (h - mask.shape[0]) // 2, (int(fg[0]), int(fg[1]), int(fg[2])))
    return img


@_min_size
def poster(rng: np.random.Generator, w: int, h: int) -> Image:
    """A small ad on paper: a red or black title, lines of small text, a phone number, maybe a QR code."""
    img = _background(rng, w, h, PAPER[int(rng.integers(len(PAPER)))], 0.1)
    title = (30, 30, 200) if rng.random() < 0.6 else (30, 30, 30)
    cell = max(int(w / rng.uniform(3.5, 6)), 4)
    _centered_text(rng, img, int(rng.integers(2, 6)), cell, title, int(cell * 0.8))
    y = int(cell * 1.6)
    line = max(cell // 3, 3)
    while y < h * 0.78:
        mask = text_mask(rng, max(int(w * 0.85 // (line * 1.1)), 1), line, bold=False)
        paste(img, mask, int(w * 0.07), y, (40, 40, 40))
        y += int(line * 1.6)
    if rng.random() < 0.6:
        mask = latin_mask(phone_number(rng), max(h // 14, 5), 1)
        if mask.shape[1] < w:
            paste(img, mask, (w - mask.shape[1]) // 2, int(h * 0.85), (int(title[0]), int(title[1]), int(title[2])))
    if rng.random() < 0.3:
        q = w // 4
        qr = (rng.random((7, 7)) < 0.5).astype(np.uint8) * 255
        qr = np.asarray(cv2.resize(255 - qr, (q, q), interpolation=cv2.INTER_NEAREST), np.uint8)
        paste(img, qr, w - q - 2, h - q - 2, (20, 20, 20))
    return img


@_min_size
def ad_print(rng: np.random.Generator, w: int, h: int) -> Image:
    """A colourful printed ad (ad boards, window stickers): picture area, big text, a price."""
    bg, fg = SIGN_SCHEMES[int(rng.integers(len(SIGN_SCHEMES)))]
    img = _background(rng, w, h, bg, 0.15)
    top = int(h * rng.uniform(0.3, 0.6))
    if rng.random() < 0.75:  # photo-like blob area
        blobs = tinted(jitter_color(rng, (120, 150, 170), 60), noise(rng, top, w, 3, 3), 1.4)
        img[:top] = blobs
        for _ in range(int(rng.integers(1, 4))):
            c = (int(rng.integers(0, w)), int(rng.integers(0, max(top, 1))))
            cv2.circle(img, c, int(min(w, h) * rng.uniform(0.08, 0.2)), jitter_color(rng, (90, 160, 220), 70), -1)
    cell = max(int(min(w / rng.uniform(3, 6), (h - top) * 0.4)), 4)
    _centered_text(rng, img, int(rng.integers(2, 6)), cell, fg, top + int(cell * 0.9))
    if rng.random() < 0.6:
        price = str(rng.choice(["50%", "8.8", "9.9", "19.9", "OFF", "SALE", "5", "¥29"]))
        price = price.replace("¥", "Y")
        mask = latin_mask(price, max(int(h * 0.14), 6), max(h // 50, 1))
        if mask.shape[1] < w:
            paste(img, mask, (w - mask.shape[1]) // 2, int(h * 0.78), (int(fg[0]), int(fg[1]), int(fg[2])))
    return img


@_min_size
def cantilever_face(rng: np.random.Generator, w: int, h: int) -> Image:
    """A projecting sign's face: a column of characters (tall) or a logo-and-word layout."""
    bg, fg = SIGN_SCHEMES[int(rng.integers(len(SIGN_SCHEMES)))]
    img = _background(rng, w, h, bg)
    cv2.rectangle(img, (1, 1), (w - 2, h - 2), jitter_color(rng, fg, 10), max(min(w, h) // 18, 1))
    if h > w * 1.3:
        cell = int(w * 0.62)
        count = max(min(int(h * 0.85 // (cell * 1.1)), 6), 1)
        mask = text_mask(rng, count, cell, bold=True, vertical=True)
        paste(img, mask, (w - cell) // 2, (h - mask.shape[0]) // 2, (int(fg[0]), int(fg[1]), int(fg[2])))
    else:
        cv2.circle(img, (w // 2, int(h * 0.38)), int(min(w, h) * 0.22), jitter_color(rng, fg, 15), -1)
        _centered_text(rng, img, int(rng.integers(2, 4)), int(h * 0.22), fg, int(h * 0.78))
    return img
