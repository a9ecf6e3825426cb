"""Patrol positioning against the synthetic patrol camera: its own projection, then a rendered clip's truth."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from vision.frame import GeoPoint
from vision.geo import GpsTrack, PatrolLocator, PatrolSettings, PatrolView, TrackAlignment, distance_m
from vision.synth.camera import Camera
from vision.synth.geo import StreetGeo
from vision.synth.patrol import write_patrol

SIZE = (960, 540)
STREET = StreetGeo(31.2, 121.4, 63.0)  # the street's +x runs 63° east of north


def _exact(height: float, pitch: float, hfov: float, turn: float) -> PatrolSettings:
    """The rig exactly, with no caps: the flat-ground model must invert the camera."""
    return PatrolSettings(height_m=height, pitch_deg=pitch, hfov_deg=hfov, yaw_deg=turn, roadside_m=None,
                          max_range_m=500.0)  # fmt: skip


def _box_on(camera: Camera, ground: tuple[float, float], elevation: float = 0.0) -> list[float]:
    """A 20 px wide box whose bottom-centre is the projection of a street point."""
    pixels, depth = camera.project(np.array([[ground[0], ground[1], elevation]]))
    u, v = pixels[0]
    assert depth[0] > 0 and 0 <= u < SIZE[0] and 0 <= v <= SIZE[1]
    return [u - 10.0, v - 40.0, u + 10.0, v]


@pytest.mark.parametrize(
    ("height", "pitch", "hfov", "turn"),
    [(1.6, 0.0, 60.0, 25.0), (2.05, 4.0, 75.0, 47.5), (2.5, 8.0, 90.0, 70.0), (1.8, -6.0, 70.0, 35.0)],
)
def test_inverts_the_synthetic_patrol_camera(height: float, pitch: float, hfov: float, turn: float) -> None:
    lane = 9.0  # vehicle's distance from facade A (street y); the camera turns right, towards side A
    camera = Camera.look((20.0, lane, height), -turn, pitch, hfov, SIZE)  # synth yaw: counter-clockwise
    vehicle = GeoPoint(*STREET.to_latlon(20.0, lane), accuracy_m=2.0, heading_deg=STREET.heading(0.0))
    locator = PatrolLocator(_exact(height, pitch, hfov, turn))
    checked = 0
    for ahead in (4.0, 8.0, 15.0, 25.0, 40.0):
        for across in (1.0, 3.0, 6.0, 9.0):
            pixels, depth = camera.project(np.array([[20.0 + ahead, lane - across, 0.0]]))
            u, v = pixels[0]
            if depth[0] <= 0 or not (0 <= u < SIZE[0] and 0 <= v <= SIZE[1]):
                continue  # out of this rig's view
            located = locator.locate(vehicle, [u - 10.0, v - 40.0, u + 10.0, v], SIZE)
            truth = GeoPoint(*STREET.to_latlon(20.0 + ahead, lane - across))
            assert distance_m(located, truth) < 0.05
            checked += 1
    assert checked >= 4


def test_side_of_the_frame_and_range_uncertainty() -> None:
    camera = Camera.look((0.0, 9.0, 2.05), -47.5, 4.0, 75.0, SIZE)
    vehicle = GeoPoint(*STREET.to_latlon(0.0, 9.0), accuracy_m=3.0, heading_deg=STREET.heading(0.0))
    locator = PatrolLocator(PatrolSettings(roadside_m=None))
    near, far = (locator.sightline((b[0] + b[2]) / 2, b[3], SIZE) for b in (_box_on(camera, (5, 4)),
                                                                             _box_on(camera, (25, 4))))  # fmt: skip
    assert near.on_ground and far.on_ground
    assert near.range_m == pytest.approx(np.hypot(5, 5), rel=1e-6)
    assert far.bearing_deg < near.bearing_deg  # further ahead: nearer the direction of travel, left in the frame
    assert far.range_sigma_m > 3 * near.range_sigma_m  # flat ground: a degree of pitch matters more far away
    located_near = locator.locate(vehicle, _box_on(camera, (5, 4)), SIZE)
    located_far = locator.locate(vehicle, _box_on(camera, (25, 4)), SIZE)
    assert located_near.accuracy_m is not None and located_far.accuracy_m is not None
    assert 3.0 < located_near.accuracy_m < located_far.accuracy_m


def test_objects_off_the_ground_are_capped_at_the_building_line() -> None:
    camera = Camera.look((0.0, 9.0, 2.0), -47.5, 4.0, 75.0, SIZE)
    sign = _box_on(camera, (12.0, 0.0), elevation=3.5)  # a signboard on facade A, above the camera
    default = PatrolLocator(PatrolSettings(height_m=2.0, roadside_m=9.0))
    line = default.sightline((sign[0] + sign[2]) / 2, sign[3], SIZE)
    assert not line.on_ground  # its bottom edge is above the horizon
    vehicle = GeoPoint(*STREET.to_latlon(0.0, 9.0), heading_deg=STREET.heading(0.0))
    located = default.locate(vehicle, sign, SIZE)
    assert distance_m(located, GeoPoint(*STREET.to_latlon(12.0, 0.0))) < 0.5  # on the building line, 9 m right
    uncapped = PatrolLocator(PatrolSettings(height_m=2.0, roadside_m=None, max_range_m=30.0))
    assert distance_m(uncapped.locate(vehicle, sign, SIZE), vehicle) == pytest.approx(30.0, abs=1e-3)


def _views_of(point: tuple[float, float, float], lane: float, along: Sequence[float]) -> list[PatrolView]:
    """The default rig driving along street ``y = lane`` and boxing a street point from each place in ``along``."""
    settings = PatrolSettings()
    views = []
    for x in along:
        camera = Camera.look((x, lane, settings.height_m), -settings.yaw_deg, settings.pitch_deg, settings.hfov_deg,
                             SIZE)  # fmt: skip
        vehicle = GeoPoint(*STREET.to_latlon(x, lane), accuracy_m=2.0, heading_deg=STREET.heading(0.0))
        views.append(PatrolView(vehicle, _box_on(camera, point[:2], elevation=point[2])))
    return views


def test_a_wall_sign_beyond_the_assumed_building_line_is_placed_on_its_facade_by_triangulation() -> None:
    # The facade is 12 m from the lane, the default building line 8 m: from one frame the sign (3.5 m up, its box
    # above the horizon) is placed 4 m short along the ray; the bearings from eight places 1 m apart put it there.
    sign = (20.0, 0.0, 3.5)
    views = _views_of(sign, lane=12.0, along=np.arange(6.0, 14.0, 1.0))
    locator = PatrolLocator()
    truth = GeoPoint(*STREET.to_latlon(sign[0], sign[1]))
    one_frame = locator.locate(views[-1].vehicle, views[-1].box, SIZE)
    assert distance_m(one_frame, truth) > 3.0
    crossing = locator.triangulate(views, SIZE)
    assert crossing is not None and distance_m(crossing, truth) < 0.2
    assert crossing.accuracy_m is not None and 2.0 <= crossing.accuracy_m < 5.0


def test_a_ground_object_is_triangulated_too() -> None:
    stall = (25.0, 1.5, 0.0)  # on the sidewalk, 1.5 m in front of the facade
    views = _views_of(stall, lane=7.0, along=np.arange(10.0, 20.0, 2.0))
    crossing = PatrolLocator().triangulate(views, SIZE)
    assert crossing is not None and distance_m(crossing, GeoPoint(*STREET.to_latlon(25.0, 1.5))) < 0.2


def _moved(view: PatrolView, pixels: float) -> PatrolView:
    return PatrolView(view.vehicle, np.asarray(view.box, np.float64) + np.array([pixels, 0.0, pixels, 0.0]))


@pytest.mark.parametrize(
    "case",
    ["two views", "one place", "cut by the edge", "no heading", "moving with the vehicle", "two objects", "behind"],
)
def test_triangulation_declines_what_does_not_fix_a_point(case: str) -> None:
    views = _views_of((20.0, 0.0, 3.5), lane=12.0, along=[8.0, 10.0, 12.0])
    if case == "two views":
        views = views[:2]
    elif case == "one place":
        views = [views[0]] * 3
    elif case == "cut by the edge":
        box = np.asarray(views[0].box, np.float64)
        views[0] = PatrolView(views[0].vehicle, [0.0, box[1], box[2], box[3]])
    elif case == "no heading":
        views[1] = PatrolView(replace(views[1].vehicle, heading_deg=None), views[1].box)
    elif case == "moving with the vehicle":
        views = [PatrolView(view.vehicle, views[0].box) for view in views]  # same box from each place: parallel rays
    elif case == "two objects":  # the track jumped to a sign 6 m further on and back
        views[1] = _views_of((26.0, 0.0, 3.5), lane=12.0, along=[10.0])[0]
    elif case == "behind":
        views = [_moved(view, 150.0 * k) for k, view in enumerate(reversed(views))]  # bearings turn the wrong way
    assert PatrolLocator().triangulate(views, SIZE) is None


def test_without_a_heading_the_vehicle_position_with_wide_accuracy() -> None:
    vehicle = GeoPoint(31.2, 121.4, accuracy_m=4.0)
    located = PatrolLocator().locate(vehicle, [100, 100, 200, 300], SIZE)
    assert (located.lat, located.lon) == (31.2, 121.4)
    assert located.accuracy_m == pytest.approx(np.hypot(4.0, PatrolSettings().max_range_m))


def test_settings_from_a_synthetic_pass_camera_block() -> None:
    block = {"height_m": 2.3, "yaw_deg": -40.0, "hfov_deg": 80.0, "note": "..."}
    settings = PatrolSettings.from_camera_metadata(block, roadside_m=6.0)
    assert (settings.height_m, settings.yaw_deg, settings.hfov_deg) == (2.3, 40.0, 80.0)
    assert settings.pitch_deg == PatrolSettings().pitch_deg and settings.roadside_m == 6.0
    assert PatrolSettings.from_camera_metadata({**block, "pitch_deg": 6.5}).pitch_deg == 6.5
    with pytest.raises(ValueError, match="lacks 'hfov_deg'"):
        PatrolSettings.from_camera_metadata({"height_m": 2.0, "yaw_deg": 0.0})
    with pytest.raises(ValueError, match="height_m must be positive"):
        PatrolSettings(height_m=0.0)


def _best_boxes(frames: Path) -> dict[int, tuple[float, list[float]]]:
    """For each object, the frame time and its largest box (what a sighting's best frame would be)."""
    best: dict[int, tuple[float, float, list[float]]] = {}
    for line in frames.read_text().splitlines():
        frame = json.loads(line)
        for box, object_id in zip(frame["boxes"], frame["object_id"], strict=True):
            area = (box[2] - box[0]) * (box[3] - box[1])
            if object_id not in best or area > best[object_id][0]:
                best[object_id] = (area, frame["t"], box)
    return {key: (t, box) for key, (_, t, box) in best.items()}


def test_synthetic_patrol_truth_lands_within_15_m(tmp_path: Path) -> None:
    size = (480, 270)
    write_patrol(tmp_path, seed=3, passes=1, fps=1.0, size=size)
    truth = json.loads((tmp_path / "truth.json").read_text())
    drive = truth["passes"][0]
    track = GpsTrack.load(tmp_path / drive["gpx"])
    alignment = TrackAlignment(datetime.fromisoformat(drive["start_time"]))
    where = {v["object_id"]: GeoPoint(v["lat"], v["lon"]) for v in truth["violations"]}
    best = _best_boxes(tmp_path / drive["frames"])
    for settings, share in ((PatrolSettings.from_camera_metadata(drive["camera"]), 0.95), (PatrolSettings(), 0.9)):
        locator = PatrolLocator(settings)
        errors = []
        for object_id, (t, box) in best.items():
            if object_id not in where:
                continue  # passers-by and scenery
            vehicle = track.at(alignment.wall_time(t))
            assert vehicle is not None and vehicle.heading_deg is not None
            assert abs((vehicle.heading_deg - drive["heading_deg"] + 180.0) % 360.0 - 180.0) < 3.0
            errors.append(distance_m(locator.locate(vehicle, box, size), where[object_id]))
        assert len(errors) >= 20
        assert np.mean(np.array(errors) <= 15.0) >= share
        assert np.median(errors) < 5.0
