"""A patrol sighting is placed where the rays through its boxes along the drive cross (its path), not at a guessed
building line."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
from factories.tracking import make_frame

from service.pipeline.locate import PatrolTrackLocator
from vision.frame import GeoPoint
from vision.geo import GpsFix, GpsTrack, PatrolLocator, PatrolSettings, distance_m
from vision.sighting import BoxPath, Sighting
from vision.synth.camera import Camera
from vision.synth.geo import StreetGeo

SIZE = (960, 540)
STREET = StreetGeo(30.6, 114.3, 120.0)
START = datetime(2024, 6, 1, 2, 0, tzinfo=UTC)
SPEED, LANE = 4.0, 12.0  # m/s along the street's +x; the facade is 12 m to the right, the default line 8 m
SIGN = (30.0, 0.0, 3.5)  # a signboard on the facade, above the camera


def _track() -> GpsTrack:
    fixes = []
    for second in range(12):
        fixes.append(GpsFix(START + timedelta(seconds=second), *STREET.to_latlon(SPEED * second, LANE)))
    return GpsTrack.from_fixes(fixes)


def _box_at(time: float) -> list[float]:
    settings = PatrolSettings()
    camera = Camera.look((SPEED * time, LANE, settings.height_m), -settings.yaw_deg, settings.pitch_deg,
                         settings.hfov_deg, SIZE)  # fmt: skip
    ((u, v),) = camera.project(np.array([SIGN]))[0]
    return [u - 30.0, v - 25.0, u + 30.0, v]


def _sighting(times: list[float], best: float) -> Sighting:
    frame = make_frame(int(best * 5), timestamp=best, size=(SIZE[1], SIZE[0]))
    boxes = np.array([_box_at(t) for t in times], np.float32)
    path = BoxPath(np.array(times), boxes)
    best_box = np.array(_box_at(best), np.float32)
    return Sighting(frame.source_id, 1, 6, "signboard", times[0], times[-1], len(times), 0.8, frame, best_box,
                    path=path)  # fmt: skip


def test_a_sign_on_a_far_facade_is_placed_by_its_path() -> None:
    times = [4.0 + 0.2 * k for k in range(10)]
    sighting = _sighting(times, best=times[-1])
    locator = PatrolTrackLocator(_track(), PatrolLocator())
    seen_at = START + timedelta(seconds=times[-1])
    truth = GeoPoint(*STREET.to_latlon(SIGN[0], SIGN[1]))
    located = locator.locate(sighting, seen_at)
    assert located is not None and distance_m(located, truth) < 0.3
    one_frame = locator.locate(replace(sighting, path=None), seen_at)  # the best box alone: at the 8 m line
    assert one_frame is not None and distance_m(one_frame, truth) > 3.0


def test_a_path_too_short_to_turn_falls_back_to_the_best_box() -> None:
    sighting = _sighting([6.0, 6.2], best=6.2)
    locator = PatrolTrackLocator(_track(), PatrolLocator())
    seen_at = START + timedelta(seconds=6.2)
    alone = locator.locate(replace(sighting, path=None), seen_at)
    located = locator.locate(sighting, seen_at)
    assert located is not None and alone is not None and distance_m(located, alone) < 1e-6
