"""Printed textures and glyphs work at any size (they are made at the resolution they are seen at)."""

from __future__ import annotations

import numpy as np
import pytest

from vision.synth import prints
from vision.synth.glyphs import text_mask
from vision.synth.textures import lazy

MAKERS = [
    prints.signboard,
    prints.banner,
    prints.vertical_banner,
    prints.poster,
    prints.ad_print,
    prints.cantilever_face,
]


@pytest.mark.parametrize("make", MAKERS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("size", [(1, 1), (3, 40), (40, 3), (24, 24), (300, 90)])
def test_prints_have_the_asked_size(make, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    image = make(np.random.default_rng(0), *size)
    assert image.shape == (size[1], size[0], 3)
    assert image.dtype == np.uint8


def test_text_has_ink_and_the_asked_height() -> None:
    mask = text_mask(np.random.default_rng(1), count=5, cell=32)
    assert mask.shape[0] == 32
    assert mask.shape[1] > 5 * 32
    assert 0.05 < (mask > 128).mean() < 0.8


def test_lazy_texture_is_made_once_per_level_and_deterministic() -> None:
    calls: list[tuple[int, int]] = []

    def make(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
        calls.append((w, h))
        return rng.integers(0, 255, (h, w, 3), dtype=np.uint8)

    texture = lazy(np.random.default_rng(2), 200, 100, make)
    full, again, quarter = texture.image(1.0), texture.image(0.9), texture.image(0.2)
    assert full is again and full.shape == (100, 200, 3)
    assert quarter.shape == (25, 50, 3)
    assert calls == [(200, 100), (50, 25)]
    other = lazy(np.random.default_rng(2), 200, 100, make)
    assert np.array_equal(other.image(), full)
