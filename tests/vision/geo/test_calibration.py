"""Fixed-camera calibration: a synthetic pole camera's ground plane, recovered from point pairs."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from vision.frame import GeoPoint
from vision.geo import CalibrationError, GroundCalibration, LocalFrame, distance_m
from vision.synth.camera import Camera

ORIGIN = LocalFrame(31.2304, 121.4737)
Pairs = list[list[float]]
SIZE = (1280, 720)


def _pole_camera() -> Camera:
    """6 m up a pole, looking 30° down the street (north-east), 70° field of view."""
    return Camera.look((0.0, 0.0, 6.0), yaw_deg=45.0, pitch_deg=-20.0, hfov_deg=70.0, size=SIZE)


def _pixels(camera: Camera, ground: np.ndarray) -> np.ndarray:
    pixels, depth = camera.project(np.c_[ground, np.zeros(len(ground))])
    assert (depth > 0).all()
    return pixels


# World x east, y north on the ground: the camera's world frame is the local metric frame.
CALIBRATION_GROUND = np.array([[8.0, 12.0], [25.0, 8.0], [14.0, 30.0], [40.0, 35.0], [20.0, 18.0], [30.0, 22.0]])


def _calibration(noise_px: float = 0.0, count: int = 6) -> GroundCalibration:
    camera = _pole_camera()
    pixels = _pixels(camera, CALIBRATION_GROUND[:count])
    pixels = pixels + np.random.default_rng(0).normal(0, noise_px, pixels.shape) if noise_px else pixels
    return GroundCalibration.from_pairs(pixels.tolist(), ORIGIN.to_geo_array(CALIBRATION_GROUND[:count]).tolist())


def _truth(east: float, north: float) -> GeoPoint:
    return GeoPoint(*ORIGIN.to_geo(east, north))


def test_round_trip_on_a_synthetic_homography() -> None:
    calibration = _calibration()
    assert calibration.rms_m < 0.01 and calibration.inliers.all()
    camera = _pole_camera()
    for east, north in [(10.0, 15.0), (35.0, 30.0), (22.0, 45.0), (5.0, 20.0)]:
        ((x, y),) = _pixels(camera, np.array([[east, north]]))
        box = [x - 40.0, y - 120.0, x + 40.0, y]  # an object standing there: bottom-centre on the point
        located = calibration.locate(box)
        assert located is not None
        assert distance_m(located, _truth(east, north)) < 1.0


def test_noisy_pairs_stay_within_a_metre_and_report_their_rms() -> None:
    calibration = _calibration(noise_px=1.0)
    assert 0.0 < calibration.rms_m < 1.0
    ((x, y),) = _pixels(_pole_camera(), np.array([[18.0, 20.0]]))
    located = calibration.locate_pixel(float(x), float(y))
    assert located is not None and distance_m(located, _truth(18.0, 20.0)) < 1.0


def test_accuracy_grows_with_distance_from_the_camera() -> None:
    calibration = _calibration(noise_px=0.5)
    camera = _pole_camera()
    accuracies = []
    for reach in (8.0, 20.0, 45.0, 80.0):
        ((x, y),) = _pixels(camera, np.array([[reach / math.sqrt(2), reach / math.sqrt(2)]]))
        located = calibration.locate_pixel(float(x), float(y))
        assert located is not None and located.accuracy_m is not None
        assert located.accuracy_m >= calibration.rms_m
        accuracies.append(located.accuracy_m)
    assert accuracies == sorted(accuracies) and accuracies[-1] > 5 * accuracies[0]
    # 1 px at 80 m on a 6 m pole is metres on the ground: the footprint says so.
    assert calibration.footprint_m(float(x), float(y)) > 0.5


def test_above_the_horizon_is_not_on_the_ground() -> None:
    calibration = _calibration()
    assert calibration.locate([600.0, 0.0, 680.0, 5.0]) is None  # the top rows look at the sky


def test_stored_form_round_trips_through_json() -> None:
    calibration = _calibration(noise_px=0.5)
    stored = json.loads(json.dumps(calibration.to_dict()))
    assert set(stored) == {"image_points", "map_points"}
    assert stored["map_points"][0] == pytest.approx(list(ORIGIN.to_geo(8.0, 12.0)))
    again = GroundCalibration.from_dict(stored)
    assert again.rms_m == pytest.approx(calibration.rms_m)
    assert np.allclose(again.homography, calibration.homography)


def test_ransac_drops_a_wrong_pair() -> None:
    camera = _pole_camera()
    ground = np.vstack([CALIBRATION_GROUND, [[12.0, 40.0], [45.0, 15.0]]])
    pixels = _pixels(camera, ground)
    latlon = ORIGIN.to_geo_array(ground)
    latlon[2] = ORIGIN.to_geo(17.0, 30.0)  # a mis-clicked map point, 3 m off
    least_squares = GroundCalibration.from_pairs(pixels, latlon)
    robust = GroundCalibration.from_pairs(pixels, latlon, ransac_threshold_m=0.5)
    assert not robust.inliers[2] and robust.inliers.sum() == len(ground) - 1
    assert robust.rms_m < 0.05 and least_squares.rms_m > 0.3
    assert robust.to_dict()["ransac_threshold_m"] == 0.5 and "ransac_threshold_m" not in least_squares.to_dict()
    assert GroundCalibration.from_dict(json.loads(json.dumps(robust.to_dict()))).inliers.sum() == 7
    latlon[2] = ORIGIN.to_geo(34.0, 10.0)  # 20 m off: least squares folds the plane and says which pair
    with pytest.raises(CalibrationError, match=r"pair 2 disagrees most with the others \(2\d\.\d m off"):
        GroundCalibration.from_pairs(pixels, latlon)
    assert GroundCalibration.from_pairs(pixels, latlon, ransac_threshold_m=0.5).rms_m < 0.05


def _four() -> tuple[list[list[float]], list[list[float]]]:
    pixels = _pixels(_pole_camera(), CALIBRATION_GROUND[:4])
    return pixels.tolist(), ORIGIN.to_geo_array(CALIBRATION_GROUND[:4]).tolist()


def test_four_pairs_are_enough_and_three_are_not() -> None:
    pixels, latlon = _four()
    assert GroundCalibration.from_pairs(pixels, latlon).rms_m < 1e-6
    with pytest.raises(CalibrationError, match="at least 4 point pairs, got 3"):
        GroundCalibration.from_pairs(pixels[:3], latlon[:3])
    with pytest.raises(CalibrationError, match="at least 4 point pairs, got 0"):
        GroundCalibration.from_dict({"image_points": [], "map_points": []})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda px, ll: (px, ll[:3]), "4 image points but 3 map points"),
        (lambda px, ll: ([[*px[0][:1], float("nan")], *px[1:]], ll), r"image_points\[0\]: not a finite number"),
        (lambda px, ll: (px, [*ll[:2], [95.0, 121.0], ll[3]]), r"map_points\[2\]: .* not a \[lat, lon\]"),
        (lambda px, ll: ([[1.0, 2.0, 3.0]] * 4, ll), "image_points: must be a list of"),
        (lambda px, ll: ("four points", ll), "image_points: must be a list of"),
        (lambda px, ll: ([px[0], px[1], px[2], px[0]], ll), "image_points: points 0 and 3 are the same point"),
        (lambda px, ll: ([[100.0 * k, 50.0 * k + 10] for k in range(1, 5)], ll), "image_points: all points lie"),
        (
            lambda px, ll: ([[100, 100], [200, 100], [300, 100], [150, 400]], ll),
            r"three of the four points \(0, 1, 2\)",
        ),
        (lambda px, ll: (px, [ll[0], ll[1], ll[2], ll[1]]), "map_points: points 1 and 3 are the same point"),
        (
            lambda px, ll: ([*[[100.0 * k, 400.0] for k in range(1, 5)], [250.0, 200.0]], [*ll, ll[0]]),
            r"image_points: all points but one \(0, 1, 2, 3\) lie on one line",
        ),
        (
            lambda px, ll: (px, ORIGIN.to_geo_array(np.array([[0, 0], [10, 5], [20, 10], [30, 15.0]])).tolist()),
            "map_points: all points lie on one line",
        ),
    ],
)
def test_unusable_pairs_are_named(change: Callable[[Pairs, Pairs], tuple[Any, Any]], message: str) -> None:
    pixels, latlon = _four()
    image_points, map_points = change(pixels, latlon)
    with pytest.raises(CalibrationError, match=message):
        GroundCalibration.from_pairs(image_points, map_points)


def test_pairs_no_plane_can_explain_are_refused() -> None:
    pixels, latlon = _four()
    swapped = [latlon[1], latlon[0], latlon[2], latlon[3]]  # two map points swapped: folds the plane
    with pytest.raises(CalibrationError, match=r"no single ground plane|degenerate"):
        GroundCalibration.from_pairs(pixels, swapped)


@pytest.mark.parametrize(
    ("stored", "message"),
    [
        ({"image_points": [[0, 0]] * 4}, "map_points: missing"),
        ({"map_points": []}, "image_points: missing"),
        ([1, 2], "expected an object"),
        ({"image_points": [], "map_points": [], "ransac_threshold_m": "x"}, "ransac_threshold_m: must be a number"),
    ],
)
def test_stored_form_with_missing_fields_is_named(stored: object, message: str) -> None:
    with pytest.raises(CalibrationError, match=message):
        GroundCalibration.from_dict(stored)  # type: ignore[arg-type]
