"""Alignment: the stated view changes are recovered accurately; impossible pairs are refused, not guessed."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from factories.change_pairs import View, make_pair, make_world

from vision.compare import CompareSettings, ImageComparer
from vision.compare.align import homography_problem


def corner_error(found: np.ndarray, truth: np.ndarray, width: int, height: int) -> float:
    """Largest distance between where the two homographies send the image corners and centre."""
    points = np.float64([[0, 0], [width, 0], [width, height], [0, height], [width / 2, height / 2]])
    points = points.reshape(-1, 1, 2)
    return float(np.abs(cv2.perspectiveTransform(points, found) - cv2.perspectiveTransform(points, truth)).max())


@pytest.mark.parametrize(
    "view",
    [
        View(),
        View(shift=(0.05, 0.0)),
        View(shift=(-0.05, 0.05)),
        View(rotation=3.0),
        View(rotation=-3.0),
        View(scale=0.9),
        View(scale=1.1),
        View(shift=(0.05, -0.05), rotation=3.0, scale=1.1),
        View(shift=(-0.04, 0.05), rotation=-3.0, scale=0.9),
    ],
    ids=str,
)
def test_alignment_recovers_the_view_change(view: View) -> None:
    pair = make_pair(11, new=1, view=view)
    result = ImageComparer().compare(pair.reference, pair.current)
    assert result.aligned and result.reason is None
    assert result.homography is not None
    assert corner_error(result.homography, pair.ref_to_cur, 640, 360) < 2.0


def test_alignment_is_reported_in_full_resolution_pixels() -> None:
    pair = make_pair(12, width=1280, height=720, view=View(shift=(0.03, 0.02), rotation=1.5, scale=1.05))
    result = ImageComparer(CompareSettings(work_width=480)).compare(pair.reference, pair.current)
    assert result.homography is not None
    assert corner_error(result.homography, pair.ref_to_cur, 1280, 720) < 4.0


def test_the_same_pair_always_aligns_the_same_way() -> None:
    pair = make_pair(14, view=View(shift=(0.03, -0.02), rotation=2.0, scale=0.95))
    comparer = ImageComparer()
    first, second = (comparer.compare(pair.reference, pair.current) for _ in range(2))
    assert first.homography is not None and second.homography is not None
    assert np.array_equal(first.homography, second.homography)


def test_reference_of_another_resolution_is_aligned() -> None:
    pair = make_pair(13, width=960, height=540, gone=1)
    small_reference = cv2.resize(pair.reference, (640, 360), interpolation=cv2.INTER_AREA)
    result = ImageComparer().compare(small_reference, pair.current)
    assert result.aligned
    assert [region.kind for region in result.regions] == ["gone"]
    # The homography starts from the small reference's pixels.
    big_to_small = np.diag([2 / 3, 2 / 3, 1.0])
    assert result.homography is not None
    assert corner_error(result.homography @ big_to_small, pair.ref_to_cur, 960, 540) < 3.0


def test_different_places_are_not_aligned() -> None:
    rng = np.random.default_rng(3)
    here = make_world(rng, 640, 360)[80:440, 80:720]
    elsewhere = cv2.rotate(make_world(np.random.default_rng(4), 640, 360), cv2.ROTATE_180)[80:440, 80:720]
    result = ImageComparer().compare(here, np.ascontiguousarray(elsewhere))
    assert not result.aligned
    assert result.reason
    assert result.regions == () and result.homography is None and result.change_map is None


def test_blank_image_is_not_aligned() -> None:
    pair = make_pair(14)
    blank = np.full_like(pair.current, 128)
    result = ImageComparer().compare(pair.reference, blank)
    assert not result.aligned
    assert "feature" in (result.reason or "")


@pytest.mark.parametrize(
    ("matrix", "words"),
    [
        (np.diag([2.0, 2.0, 1.0]), "zoom"),
        (np.array([[1.0, 0.4, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), "shear"),
        (np.array([[1.0, 0.0, 300.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), "shifted"),
        (np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0004, 0.0, 1.0]]), "perspective"),
        (np.diag([-1.0, 1.0, 1.0]), "flips"),
    ],
)
def test_implausible_homographies_are_named(matrix: np.ndarray, words: str) -> None:
    problem = homography_problem(matrix, 640, 360, CompareSettings())
    assert problem is not None and words in problem


def test_plausible_homography_passes() -> None:
    angle = np.deg2rad(3)
    matrix = np.array([[np.cos(angle), -np.sin(angle), 20.0], [np.sin(angle), np.cos(angle), -15.0], [0, 0, 1]])
    assert homography_problem(matrix * 1.05, 640, 360, CompareSettings()) is None
