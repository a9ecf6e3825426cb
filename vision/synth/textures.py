"""Procedural surface textures (BGR uint8): walls, tiles, brick, corrugated steel, paving, asphalt, glass."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import cv2
import numpy as np
import numpy.typing as npt

from vision.synth.primitives import Color, Image

Float = npt.NDArray[np.float32]


Maker = Callable[[np.random.Generator, int, int], Image]
_LEVELS = 4  # full size, 1/2, 1/4, 1/8


class Lazy:
    """A texture made only when drawn, at the resolution it is seen at, from its own seed.

    Most textures of a scene are never seen, and most are seen smaller than their full size; ``make(rng, w, h)``
    is called with the same seed for every size, so a texture looks the same from near and far.
    Its full size is known up front, so geometry can be laid out without making it.
    """

    __slots__ = ("_cache", "height", "make", "seed", "width")

    def __init__(self, make: Maker, seed: int, width: int, height: int) -> None:
        self.make, self.seed, self.width, self.height = make, seed, width, height
        self._cache: dict[int, Image] = {}

    @property
    def shape(self) -> tuple[int, int, int]:
        """Full ``(height, width, 3)``, like an image's."""
        return (self.height, self.width, 3)

    def image(self, scale: float = 1.0) -> Image:
        """The texture at the first of 1, 1/2, 1/4, 1/8 of full size that is at least ``scale``."""
        level = 0
        while level < _LEVELS - 1 and scale <= 0.5 ** (level + 1):
            level += 1
        if level not in self._cache:
            w = max(round(self.width / 2**level), min(self.width, 12))
            h = max(round(self.height / 2**level), min(self.height, 12))
            image = self.make(np.random.default_rng(self.seed), w, h)
            if image.shape[:2] != (h, w):
                image = np.asarray(cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA), np.uint8)
            self._cache[level] = image
        return self._cache[level]

    def columns(self, start: int, stop: int) -> Lazy:
        """The part of this texture between full-size columns ``start`` and ``stop``."""

        def make(_rng: np.random.Generator, w: int, h: int) -> Image:
            whole = self.image(w / max(stop - start, 1))
            factor = whole.shape[1] / self.width
            return whole[:, int(start * factor) : max(int(stop * factor), int(start * factor) + 1)]

        return Lazy(make, 0, stop - start, self.height)


def lazy(rng: np.random.Generator, width: int, height: int, make: Maker) -> Lazy:
    """Defer ``make(texture_rng, w, h)`` until drawn; its full size is ``width`` x ``height``."""
    return Lazy(make, int(rng.integers(0, 2**62)), max(int(width), 1), max(int(height), 1))


_BANK_SIZE = 256
_BANK_CELLS = 16  # a bank tile holds this many noise cells across
_BANK_SEED = 7321


@lru_cache(maxsize=1)
def _noise_bank() -> tuple[Float, ...]:
    """Fixed fields of value noise shared by every process (so textures stay deterministic and cheap)."""
    rng = np.random.default_rng(_BANK_SEED)
    bank = []
    for _ in range(24):
        total = np.zeros((_BANK_SIZE, _BANK_SIZE), np.float32)
        weight, norm = 1.0, 0.0
        for octave in range(4):
            n = _BANK_CELLS * (2**octave)
            grid = rng.random((n, n), dtype=np.float32)
            grid = np.concatenate([grid, grid[:1]], axis=0)
            grid = np.concatenate([grid, grid[:, :1]], axis=1)  # wrap, so tiles repeat seamlessly
            size = _BANK_SIZE + _BANK_SIZE // n
            up = cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)
            total += weight * up[:_BANK_SIZE, :_BANK_SIZE]
            norm += weight
            weight *= 0.5
        total /= norm
        lo, hi = float(total.min()), float(total.max())
        bank.append(((total - lo) / max(hi - lo, 1e-6)).astype(np.float32))
    return tuple(bank)


def noise(rng: np.random.Generator, height: int, width: int, cells: int = 8, octaves: int = 3) -> Float:
    """Smooth noise in ``[0, 1]`` with about ``cells`` blobs across the width (``octaves`` is a hint of detail)."""
    height, width = max(height, 1), max(width, 1)
    bank = _noise_bank()
    tile = bank[int(rng.integers(len(bank)))]
    crop_w = int(np.clip(_BANK_SIZE * cells / _BANK_CELLS, 4, _BANK_SIZE))
    crop_h = int(np.clip(crop_w * height / max(width, 1), 2, _BANK_SIZE))
    x0 = int(rng.integers(0, _BANK_SIZE - crop_w + 1))
    y0 = int(rng.integers(0, _BANK_SIZE - crop_h + 1))
    crop = tile[y0 : y0 + crop_h, x0 : x0 + crop_w]
    return np.asarray(cv2.resize(crop, (width, height), interpolation=cv2.INTER_LINEAR), np.float32)


def tinted(base: Color, field: Float, amount: float) -> Image:
    """A colour modulated by a ``[0, 1]`` field: ``base * (1 + amount * (field - 0.5))``."""
    factor = field * amount + (1.0 - 0.5 * amount)  # stays positive for amount < 2
    return np.asarray(cv2.merge([cv2.convertScaleAbs(factor, alpha=float(c)) for c in base]), np.uint8)


def jitter_color(rng: np.random.Generator, color: Color, amount: float = 18.0) -> Color:
    """A colour moved a little in each channel."""
    d = rng.normal(0.0, amount, 3).tolist()
    return (
        min(max(color[0] + d[0], 0.0), 255.0),
        min(max(color[1] + d[1], 0.0), 255.0),
        min(max(color[2] + d[2], 0.0), 255.0),
    )


def pick_color(rng: np.random.Generator, palette: tuple[Color, ...], amount: float = 12.0) -> Color:
    """One of ``palette``, chosen at random and moved a little (``jitter_color``) in each channel."""
    return jitter_color(rng, palette[int(rng.integers(len(palette)))], amount)


def plaster(rng: np.random.Generator, width: int, height: int, color: Color, stains: bool = True) -> Image:
    """Painted render / concrete with blotches and rain streaks."""
    img = tinted(color, noise(rng, height, width, 6, 4), 0.25)
    if stains:
        streak = noise(rng, 4, width, 24, 2)[0]
        fade = np.linspace(1.0, 0.0, height, dtype=np.float32) ** 2
        darken = 1.0 - 0.25 * np.clip(streak - 0.55, 0, 1)[None, :] * 2.5 * fade[:, None]
        img = np.clip(img * darken[..., None], 0, 255).astype(np.uint8)
    return img


def tiles(rng: np.random.Generator, width: int, height: int, color: Color, tile_px: int) -> Image:
    """Ceramic wall tiles with grout lines (the white and beige tiles of many Chinese buildings)."""
    img = plaster(rng, width, height, color, stains=True)
    grout = tuple(float(c) * 0.8 for c in color)
    step = max(tile_px, 3)
    for x in range(0, width, step):
        cv2.line(img, (x, 0), (x, height), grout, 1)
    for y in range(0, height, max(step // 2, 2)):
        cv2.line(img, (0, y), (width, y), grout, 1)
    return img


def brick(rng: np.random.Generator, width: int, height: int, color: Color, brick_px: float = 16) -> Image:
    """Running-bond brickwork with mortar joints."""
    brick_px = max(round(brick_px), 4)
    course = max(brick_px // 2, 3)
    rows, cols = height // course + 1, width // brick_px + 2
    shades = 0.8 + 0.35 * rng.random((rows, cols), dtype=np.float32)
    y = np.arange(height) // course
    offset = (y % 2) * (brick_px // 2)
    x = (np.arange(width)[None, :] + offset[:, None]) // brick_px
    field = shades[y[:, None], x]
    img = np.asarray(color, np.float32)[None, None, :] * field[..., None]
    mortar = ((np.arange(height) % course) == 0)[:, None] | (
        ((np.arange(width)[None, :] + offset[:, None]) % brick_px) == 0
    )
    img[mortar] = (200, 200, 195)
    grime = noise(rng, height, width, 5, 2)
    return np.clip(img * (0.85 + 0.3 * grime[..., None]), 0, 255).astype(np.uint8)


def corrugated(rng: np.random.Generator, width: int, height: int, color: Color, period_px: float = 8) -> Image:
    """Corrugated steel sheet with ribs running along the texture's rows (vertical ribs)."""
    x = np.arange(width, dtype=np.float32)
    ribs = 0.78 + 0.22 * np.sin(2 * np.pi * x / max(period_px, 3))
    dirt = noise(rng, height, width, 4, 3)
    img = np.asarray(color, np.float32)[None, None, :] * ribs[None, :, None] * (0.85 + 0.3 * dirt[..., None])
    seams = rng.integers(0, width, size=max(width // 90, 1))
    for s in seams:
        img[:, max(s - 1, 0) : s + 1] *= 0.8
    return np.clip(img, 0, 255).astype(np.uint8)


def paving(rng: np.random.Generator, size: int, color: Color, tiles_across: int) -> Image:
    """A square tile of sidewalk paving (repeatable)."""
    img = tinted(color, noise(rng, size, size, 8, 3), 0.2)
    step = size // tiles_across
    joint = tuple(float(c) * 0.72 for c in color)
    for k in range(tiles_across + 1):
        cv2.line(img, (k * step, 0), (k * step, size), joint, 1)
        cv2.line(img, (0, k * step), (size, k * step), joint, 1)
    for _ in range(rng.integers(0, 4)):
        x, y = rng.integers(0, tiles_across, size=2) * step
        cv2.rectangle(
            img, (int(x) + 1, int(y) + 1), (int(x) + step - 1, int(y) + step - 1), jitter_color(rng, color, 20), -1
        )
    return img


def asphalt(rng: np.random.Generator, width: int, height: int, gray: float) -> Image:
    """Road surface with grain and patches (repeatable along its width)."""
    grain = rng.random((height, width), dtype=np.float32)
    patches = noise(rng, height, width, 4, 3)
    value = gray * (0.85 + 0.2 * grain + 0.25 * (patches - 0.5))
    img = np.repeat(np.clip(value, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    return img


def glass(rng: np.random.Generator, width: int, height: int, tint: Color, mullions: int = 1) -> Image:
    """A window: dark tinted glass with a sky reflection gradient and a frame."""
    t = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    diag = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    refl = 0.55 + 0.5 * np.clip(1.2 - t - 0.4 * diag + 0.15 * noise(rng, height, width, 3, 2), 0, 1)
    img = np.clip(np.asarray(tint, np.float32)[None, None, :] * refl[..., None], 0, 255).astype(np.uint8)
    frame = (200, 200, 200) if rng.random() < 0.5 else (60, 60, 60)
    thick = max(min(width, height) // 20, 1)
    cv2.rectangle(img, (0, 0), (width - 1, height - 1), frame, thick)
    for k in range(1, mullions + 1):
        x = k * width // (mullions + 1)
        cv2.line(img, (x, 0), (x, height), frame, thick)
    return img


def shutter(rng: np.random.Generator, width: int, height: int, color: Color) -> Image:
    """A rolling steel shutter (卷帘门): horizontal slats."""
    y = np.arange(height, dtype=np.float32)
    slats = 0.8 + 0.2 * np.sin(2 * np.pi * y / 5.0)
    img = np.asarray(color, np.float32)[None, None, :] * slats[:, None, None]
    img = img * (0.9 + 0.2 * noise(rng, height, width, 3, 2)[..., None])
    return np.clip(img, 0, 255).astype(np.uint8)


def foliage(rng: np.random.Generator, size: int, color: Color) -> Image:
    """Leafy texture for hedges and tree crowns."""
    fine = noise(rng, size, size, 16, 2)
    return tinted(color, fine, 0.8)


def planks(rng: np.random.Generator, width: int, height: int, board_px: float, tone: Color) -> Image:
    """Wooden boards running along the texture's rows: varied tones per board length, grain streaks, dark gaps.

    ``board_px`` is one board's width in pixels; board lengths are 8 to 30 board widths, with staggered end joints.
    The random draws do not depend on the size beyond the number of boards, so smaller copies look alike.
    """
    board_px = max(board_px, 1.0)
    rows = max(int(np.ceil(height / board_px)), 1)
    img = np.empty((height, width, 3), np.float32)
    gap = tuple(float(c) * 0.3 for c in tone)
    joints = []
    for k in range(rows):
        y0, y1 = round(k * board_px), min(round((k + 1) * board_px), height)
        x = -float(rng.uniform(0, 30)) * board_px
        while x < width:
            length = float(rng.uniform(8, 30)) * board_px
            shade = float(rng.uniform(0.72, 1.22))
            warmth = float(rng.uniform(-0.06, 0.06))  # some boards redder, some yellower
            color = (tone[0] * shade * (1 - warmth), tone[1] * shade, tone[2] * shade * (1 + warmth))
            img[y0:y1, max(round(x), 0) : max(round(x + length), 0)] = color
            x += length
            joints.append((round(x), y0, y1))
    streaks = rng.random((height, max(width // 24, 2)), dtype=np.float32)
    grain = cv2.resize(streaks, (width, height), interpolation=cv2.INTER_LINEAR)
    blotch = noise(rng, height, width, 5, 2)
    img *= (0.86 + 0.22 * grain + 0.16 * (blotch - 0.5))[..., None]
    line = 1 if board_px >= 4 else 0.5  # thin gaps seen from afar fade instead of vanishing
    for k in range(1, rows):
        y = round(k * board_px)
        if y < height:
            img[y] = img[y] * (1 - line) + np.asarray(gap, np.float32) * line
    for x, y0, y1 in joints:
        if 0 <= x < width:
            img[y0:y1, x] = img[y0:y1, x] * 0.4 + np.asarray(gap, np.float32) * 0.6
    return np.clip(img, 0, 255).astype(np.uint8)
