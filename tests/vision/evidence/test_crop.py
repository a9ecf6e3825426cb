"""The tight crop: margin around the box, clipped at the frame's edges, scaled to a reviewable size."""

from __future__ import annotations

import numpy as np
import pytest
from factories.evidence import textured_image

from vision.evidence import EvidenceCropper, EvidenceStyle


def test_margin_is_a_quarter_of_the_box_per_side() -> None:
    crop = EvidenceCropper().crop(textured_image(1000, 1000), (100, 200, 300, 300))
    assert crop.window == (50, 175, 350, 325)


def test_small_crop_is_upscaled_to_the_minimum_side() -> None:
    crop = EvidenceCropper().crop(textured_image(), (300, 200, 340, 220))  # 40 x 20 box -> 60 x 36 window
    assert crop.window == (290, 192, 350, 228)
    assert min(crop.image.shape[:2]) == 320
    assert crop.scale == pytest.approx(320 / 36)
    assert crop.image.shape[1] == round(60 * 320 / 36)


def test_long_thin_crop_stops_growing_at_the_maximum_side() -> None:
    style = EvidenceStyle(crop_min_side=320, crop_max_side=600)
    crop = EvidenceCropper(style).crop(textured_image(), (100, 200, 600, 204))
    assert max(crop.image.shape[:2]) == 600
    assert min(crop.image.shape[:2]) < 320


def test_big_crop_shrinks_to_the_maximum_side() -> None:
    crop = EvidenceCropper(EvidenceStyle(crop_max_side=400)).crop(textured_image(), (0, 0, 640, 480))
    assert crop.window == (0, 0, 640, 480)
    assert crop.image.shape[:2] == (300, 400)
    assert crop.scale == pytest.approx(400 / 640)


def test_crop_that_needs_no_scaling_is_the_frame_pixels() -> None:
    image = textured_image()
    crop = EvidenceCropper(EvidenceStyle(crop_min_side=10)).crop(image, (200, 150, 360, 330))
    x1, y1, x2, y2 = crop.window
    assert crop.scale == 1.0
    assert np.array_equal(crop.image, image[y1:y2, x1:x2])
    crop.image[:] = 0
    assert image.any()  # a copy, not a view into the frame


@pytest.mark.parametrize(
    ("box", "window"),
    [
        ((0, 0, 40, 40), (0, 0, 50, 50)),  # top-left corner
        ((600, 440, 640, 480), (590, 430, 640, 480)),  # bottom-right corner
        ((-30, -30, 20, 20), (0, 0, 28, 28)),  # partly outside: clipped first, margin from the visible part
        ((620, 100, 700, 140), (612, 90, 640, 150)),
    ],
)
def test_window_is_clipped_at_the_frame_edges(
    box: tuple[float, float, float, float], window: tuple[int, int, int, int]
) -> None:
    crop = EvidenceCropper().crop(textured_image(), box)
    assert crop.window == window
    assert min(crop.image.shape[:2]) >= 320 or max(crop.image.shape[:2]) == 1280


@pytest.mark.parametrize("box", [(640, 0, 700, 50), (10, 10, 5, 20), (0, 0, float("inf"), 5)])
def test_boxes_without_pixels_are_refused(box: tuple[float, float, float, float]) -> None:
    with pytest.raises(ValueError, match="box"):
        EvidenceCropper().crop(textured_image(), box)


@pytest.mark.parametrize(
    "settings",
    [{"crop_min_side": 0}, {"crop_min_side": 900, "crop_max_side": 800}, {"crop_margin": -0.1}, {"font_fraction": 0}],
)
def test_bad_style_is_refused(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="EvidenceStyle"):
        EvidenceStyle(**settings)  # type: ignore[arg-type]
