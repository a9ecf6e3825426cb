"""Letterboxing into the network input and mapping boxes back."""

from __future__ import annotations

import numpy as np
import pytest

from vision.detect.letterbox import PAD_VALUE, Letterbox, check_image, make_blob


@pytest.mark.parametrize(
    ("image_shape", "input_shape", "resized", "pad_top", "pad_left"),
    [
        ((432, 768), (320, 320), (180, 320), 70, 0),  # wide frame: gray bars above and below
        ((768, 432), (320, 320), (320, 180), 0, 70),  # tall frame: bars left and right
        ((320, 320), (320, 320), (320, 320), 0, 0),  # already the right size
        ((100, 50), (640, 640), (640, 320), 0, 160),  # small image is scaled up
        ((1080, 1920), (384, 640), (360, 640), 12, 0),  # non-square network input
        ((433, 768), (320, 320), (180, 320), 70, 0),  # odd padding (140 rows): split evenly
        ((430, 767), (320, 320), (179, 320), 70, 0),  # odd padding (141 rows): the extra row goes below
    ],
)
def test_fit_matches_hand_computed_geometry(
    image_shape: tuple[int, int],
    input_shape: tuple[int, int],
    resized: tuple[int, int],
    pad_top: int,
    pad_left: int,
) -> None:
    box = Letterbox.fit(image_shape, input_shape)

    assert box.resized_shape == resized
    assert (box.pad_top, box.pad_left) == (pad_top, pad_left)


@pytest.mark.parametrize("image_shape", [(432, 768), (768, 432), (300, 500), (431, 767), (17, 1000)])
def test_apply_pads_with_gray_around_the_resized_image(image_shape: tuple[int, int]) -> None:
    image = np.full((*image_shape, 3), 200, np.uint8)
    box = Letterbox.fit(image_shape, (320, 320))

    padded = box.apply(image)

    assert padded.shape == (320, 320, 3)
    top, left = box.pad_top, box.pad_left
    height, width = box.resized_shape
    assert np.all(padded[top : top + height, left : left + width] == 200)
    outside = np.ones((320, 320), bool)
    outside[top : top + height, left : left + width] = False
    assert np.all(padded[outside] == PAD_VALUE)


@pytest.mark.parametrize("image_shape", [(432, 768), (768, 432), (123, 457), (640, 640)])
def test_matches_ultralytics_letterbox_pixel_for_pixel(image_shape: tuple[int, int]) -> None:
    augment = pytest.importorskip("ultralytics.data.augment")
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (*image_shape, 3), dtype=np.uint8)

    ours = Letterbox.fit(image_shape, (320, 320)).apply(image)
    theirs = augment.LetterBox((320, 320), auto=False, center=True)(image=image)

    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("image_shape", [(432, 768), (768, 432), (301, 499)])
def test_boxes_survive_the_round_trip(image_shape: tuple[int, int]) -> None:
    box = Letterbox.fit(image_shape, (320, 320))
    height, width = image_shape
    boxes = np.array([[0, 0, width, height], [10.5, 20.25, 100, 200], [width / 2, height / 3, width - 1, height - 1]])

    back = box.to_image(box.to_input(boxes))

    np.testing.assert_allclose(back, boxes, atol=1e-3)


def test_to_image_maps_the_padded_content_area_onto_the_whole_image() -> None:
    box = Letterbox.fit((432, 768), (320, 320))  # content spans rows 70..250 of the input

    mapped = box.to_image([[0, 70, 320, 250], [160, 160, 160, 160]])

    np.testing.assert_allclose(mapped[0], [0, 0, 768, 432], atol=1e-3)
    np.testing.assert_allclose(mapped[1], [384, 216, 384, 216], atol=1e-3)  # the centre stays the centre


def test_to_image_clips_boxes_that_reach_into_the_padding() -> None:
    box = Letterbox.fit((432, 768), (320, 320))

    mapped = box.to_image([[-20, 0, 340, 320]])

    np.testing.assert_allclose(mapped[0], [0, 0, 768, 432], atol=1e-3)


def test_make_blob_is_rgb_nchw_in_unit_range() -> None:
    blue = np.zeros((432, 768, 3), np.uint8)
    blue[..., 0] = 255  # BGR: pure blue
    gray = np.full((100, 100, 3), 51, np.uint8)

    blob, boxes = make_blob([blue, gray], (320, 320))

    assert blob.shape == (2, 3, 320, 320) and blob.dtype == np.float32
    centre = blob[0, :, 160, 160]
    np.testing.assert_allclose(centre, [0.0, 0.0, 1.0])  # blue ends up in the last (B of RGB) channel
    np.testing.assert_allclose(blob[0, :, 0, 0], [PAD_VALUE / 255] * 3, rtol=1e-6)
    np.testing.assert_allclose(blob[1, :, 160, 160], [0.2] * 3, rtol=1e-6)
    assert [b.image_shape for b in boxes] == [(432, 768), (100, 100)]


@pytest.mark.parametrize(
    ("image_shape", "square", "input_shape", "resized", "pad_top", "pad_left"),
    [
        ((1080, 1920), 512, (320, 512), (288, 512), 16, 0),  # 16:9 video: one stride of padding, not 224 rows
        ((1920, 1080), 512, (512, 320), (512, 288), 0, 16),  # portrait
        ((432, 768), 320, (224, 320), (180, 320), 22, 0),  # 140 rows spare: 12 (to a stride multiple) + 32
        ((320, 320), 320, (320, 320), (320, 320), 0, 0),  # a square image fills the square input
        ((310, 320), 320, (320, 320), (310, 320), 5, 0),  # less than a stride spare: the full input
    ],
)
def test_rect_fit_shrinks_the_input_to_a_stride_multiple_with_a_band_of_padding(
    image_shape: tuple[int, int],
    square: int,
    input_shape: tuple[int, int],
    resized: tuple[int, int],
    pad_top: int,
    pad_left: int,
) -> None:
    box = Letterbox.fit(image_shape, (square, square), stride=32)

    assert box.input_shape == input_shape
    assert box.resized_shape == resized
    assert (box.pad_top, box.pad_left) == (pad_top, pad_left)
    assert Letterbox.fit(image_shape, (square, square)).resized_shape == resized  # the same scale as square


def test_make_blob_letterboxes_rectangularly_only_a_batch_of_one_shape() -> None:
    frames = [np.full((1080, 1920, 3), 200, np.uint8), np.full((1080, 1920, 3), 100, np.uint8)]

    rect, boxes = make_blob(frames, (512, 512), stride=32)
    mixed, _ = make_blob([*frames, np.zeros((100, 100, 3), np.uint8)], (512, 512), stride=32)
    square, _ = make_blob(frames, (512, 512))

    assert rect.shape == (2, 3, 320, 512) and [b.input_shape for b in boxes] == [(320, 512)] * 2
    np.testing.assert_allclose(rect[0, :, 16:304], 200 / 255, rtol=1e-6)  # the frame, between two bands
    np.testing.assert_allclose(rect[0, :, :16], PAD_VALUE / 255, rtol=1e-6)
    np.testing.assert_array_equal(rect[:, :, 16:304], square[:, :, 112:400])  # the same pixels, less padding
    assert mixed.shape == (3, 3, 512, 512) and square.shape == (2, 3, 512, 512)


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((10, 10), np.uint8),
        np.zeros((10, 10, 4), np.uint8),
        np.zeros((10, 10, 3), np.float32),
        np.zeros((0, 10, 3), np.uint8),
        "not an image",
    ],
)
def test_check_image_rejects_what_is_not_a_bgr_image(image: object) -> None:
    with pytest.raises(ValueError, match="image 3"):
        check_image(image, 3)
