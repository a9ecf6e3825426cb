from __future__ import annotations

import pytest
from factories.tracking import blurred, textured_image

from vision.track import ViewWeights, crop_sharpness, view_quality

PICTURE = textured_image(200, 300, seed=1)


def test_blur_lowers_sharpness_at_any_box_size() -> None:
    for box in ([10, 10, 40, 40], [20, 20, 280, 190]):
        sharp = crop_sharpness(PICTURE, box)
        assert sharp > 4 * crop_sharpness(blurred(PICTURE, 3.0), box) > 0


@pytest.mark.parametrize("box", [[50, 50, 51, 90], [400, 10, 500, 50], [-30, -30, -1, -1]])
def test_a_box_with_no_pixels_inside_has_no_sharpness(box: list[float]) -> None:
    assert crop_sharpness(PICTURE, box) == 0.0


def test_quality_prefers_confident_large_sharp_views_inside_the_image() -> None:
    weights = ViewWeights()
    base = view_quality(PICTURE, [50, 50, 150, 150], 0.8, weights)
    assert view_quality(PICTURE, [50, 50, 150, 150], 0.4, weights) < base
    assert view_quality(PICTURE, [50, 50, 100, 100], 0.8, weights) < base
    assert view_quality(blurred(PICTURE), [50, 50, 150, 150], 0.8, weights) < base
    assert view_quality(PICTURE, [0, 50, 100, 150], 0.8, weights) < base


def test_zero_weights_ignore_a_property() -> None:
    weights = ViewWeights(size_weight=0.0, sharpness_weight=0.0, edge_penalty=1.0)
    assert view_quality(PICTURE, [0, 0, 10, 10], 0.5, weights) == view_quality(
        blurred(PICTURE), [5, 5, 200, 150], 0.5, weights
    )
