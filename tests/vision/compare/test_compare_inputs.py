"""Reading images and per-camera ignore masks from files."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from vision.compare import load_ignore_mask, read_image
from vision.errors import SourceError


def test_read_image_returns_bgr(tmp_path: Path) -> None:
    image = np.zeros((20, 30, 3), np.uint8)
    image[..., 2] = 200
    path = tmp_path / "照片.png"  # non-ASCII names are common for city cameras
    cv2.imencode(".png", image)[1].tofile(path)
    loaded = read_image(path)
    assert loaded.shape == (20, 30, 3) and loaded[0, 0, 2] == 200


@pytest.mark.parametrize(
    ("content", "reason"), [(None, "no such file"), (b"", "not a readable image"), (b"GIF?", "not a readable image")]
)
def test_read_image_names_the_file(tmp_path: Path, content: bytes | None, reason: str) -> None:
    path = tmp_path / "bad.jpg"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SourceError) as error:
        read_image(path)
    assert error.value.source == str(path) and error.value.reason == reason


def test_mask_image_nonzero_is_ignored_and_resized(tmp_path: Path) -> None:
    mask = np.zeros((50, 100), np.uint8)
    mask[:10] = 255  # the sky
    path = tmp_path / "mask.png"
    cv2.imwrite(str(path), mask)
    loaded = load_ignore_mask(path, (100, 200))
    assert loaded.shape == (100, 200) and loaded.dtype == bool
    assert loaded[:20].all() and not loaded[20:].any()


def test_mask_polygons_in_pixels_and_fractions(tmp_path: Path) -> None:
    pixels = tmp_path / "pixels.json"
    pixels.write_text(json.dumps({"polygons": [[[0, 0], [50, 0], [50, 20], [0, 20]]]}))
    fractions = tmp_path / "fractions.json"
    fractions.write_text(json.dumps([[[0.5, 0.5], [1.0, 0.5], [1.0, 1.0], [0.5, 1.0]]]))
    by_pixels = load_ignore_mask(pixels, (100, 200))
    assert by_pixels[10, 25] and not by_pixels[50, 100]
    by_fraction = load_ignore_mask(fractions, (100, 200))
    assert by_fraction[75, 150] and not by_fraction[25, 50]
    assert abs(by_fraction.mean() - 0.25) < 0.02


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{", "not valid JSON"),
        ('{"polygons": 3}', "polygons"),
        ('{"polygons": [[[0, 0], [1, 1]]]}', "at least 3"),
        ('[["a"]]', "polygon 0"),
    ],
)
def test_malformed_polygon_file_names_the_problem(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "mask.json"
    path.write_text(text)
    with pytest.raises(SourceError, match=words) as error:
        load_ignore_mask(path, (10, 10))
    assert error.value.source == str(path)
