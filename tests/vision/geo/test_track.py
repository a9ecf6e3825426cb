"""Positions, headings and accuracies along a GPS track, and video time mapped onto it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from vision.frame import GeoPoint
from vision.geo import GpsFix, GpsTrack, LocalFrame, TrackAlignment, TrackError, TrackSettings, distance_m

START = datetime(2024, 5, 6, 9, 30, tzinfo=UTC)
ORIGIN = LocalFrame(31.2, 121.4)


def _track(path: list[tuple[float, float, float]], **fix: float | None) -> GpsTrack:
    """Fixes at ``(seconds, east_m, north_m)``."""
    fixes = [GpsFix(START + timedelta(seconds=t), *ORIGIN.to_geo(e, n), **fix) for t, e, n in path]  # type: ignore[arg-type]
    return GpsTrack.from_fixes(fixes, source="test")


def _at(track: GpsTrack, seconds: float) -> GeoPoint:
    point = track.at(START + timedelta(seconds=seconds))
    assert point is not None
    return point


def _local(point: GeoPoint) -> tuple[float, float]:
    return ORIGIN.to_local(point.lat, point.lon)


def _angle(a: float | None, b: float) -> float:
    assert a is not None
    return abs((a - b + 180.0) % 360.0 - 180.0)


def test_interpolates_between_fixes() -> None:
    track = _track([(0, 0, 0), (1, 10, 0), (2, 20, 0), (4, 20, 30)])
    assert _local(_at(track, 0.5)) == pytest.approx((5.0, 0.0), abs=1e-6)
    assert _local(_at(track, 3.0)) == pytest.approx((20.0, 15.0), abs=1e-6)
    assert _local(_at(track, 1.0)) == pytest.approx((10.0, 0.0), abs=1e-6)


def test_heading_follows_the_motion_over_a_window() -> None:
    track = _track([(t, 10.0 * t, 0) for t in range(6)] + [(6 + t, 50, 10.0 * (t + 1)) for t in range(5)])
    assert _angle(_at(track, 2.3).heading_deg, 90.0) < 1e-6  # east
    assert _angle(_at(track, 9.5).heading_deg, 0.0) < 1e-6  # then north
    assert _angle(_at(track, 5.0).heading_deg, 45.0) < 1e-3  # at the corner: between the two


def test_a_stopped_vehicle_keeps_the_heading_it_arrived_with() -> None:
    rng = np.random.default_rng(3)
    driving = [(float(t), 8.0 * t, 0.0) for t in range(10)]  # east at 8 m/s
    parked = [(10.0 + t, 72.0 + rng.normal(0, 0.8), rng.normal(0, 0.8)) for t in range(60)]  # GPS jitter
    leaving = [(70.0 + t, 72.0, 8.0 * (t + 1)) for t in range(5)]  # leaves northwards
    track = _track(driving + parked + leaving)
    for seconds in (12.0, 30.5, 55.0, 69.4):
        assert _angle(_at(track, seconds).heading_deg, 90.0) < 20.0
    assert _angle(_at(track, 72.0).heading_deg, 0.0) < 20.0


def test_a_track_that_never_moves_has_only_the_stated_heading() -> None:
    still = [(float(t), 0.0, 0.0) for t in range(5)]
    assert _at(_track(still), 2.0).heading_deg is None
    assert _at(_track(still, heading_deg=135.0), 2.0).heading_deg == 135.0


def test_accuracy_grows_away_from_fixes() -> None:
    track = _track([(0, 0, 0), (1, 10, 0), (31, 310, 0), (32, 320, 0)], accuracy_m=3.0)
    assert _at(track, 1.0).accuracy_m == pytest.approx(3.0)
    assert _at(track, 0.5).accuracy_m == pytest.approx(3.5)  # half a second from a fix at 1 m/s drift
    assert _at(track, 16.0).accuracy_m == pytest.approx(18.0)  # in the middle of a 30 s gap
    default = _track([(0, 0, 0), (1, 10, 0)])
    assert _at(default, 0.0).accuracy_m == pytest.approx(TrackSettings().default_accuracy_m)


def test_outside_the_track_a_little_extrapolation_then_nothing() -> None:
    track = _track([(0, 0, 0), (1, 10, 0), (2, 20, 0)])
    after = _at(track, 3.5)
    assert _local(after) == pytest.approx((35.0, 0.0), abs=1e-6)
    assert after.accuracy_m == pytest.approx(5.0 + 1.5) and _angle(after.heading_deg, 90.0) < 1e-6
    before = _at(track, -1.0)
    assert _local(before) == pytest.approx((-10.0, 0.0), abs=1e-6) and _angle(before.heading_deg, 90.0) < 1e-6
    assert track.at(START + timedelta(seconds=4.5)) is None
    assert track.at(START - timedelta(seconds=2.5)) is None
    with pytest.raises(ValueError, match="no timezone"):
        track.at(datetime(2024, 5, 6, 9, 30))


def test_times_in_any_zone_are_the_same_moment() -> None:
    track = _track([(0, 0, 0), (10, 100, 0)])
    beijing = (START + timedelta(seconds=5)).astimezone(timezone(timedelta(hours=8)))
    located = track.at(beijing)
    assert located is not None and _local(located) == pytest.approx((50.0, 0.0), abs=1e-6)


def test_repeated_fixes_are_dropped_and_backward_times_refused() -> None:
    fixes = [GpsFix(START + timedelta(seconds=t), 31.2, 121.4 + t * 1e-4) for t in (0, 1, 1, 2)]
    assert len(GpsTrack.from_fixes(fixes)) == 3
    backwards = [*fixes[:2], GpsFix(START, 31.2, 121.4)]
    with pytest.raises(TrackError, match=r"fix 3: time .* is before the previous fix"):
        GpsTrack.from_fixes(backwards, source="mem")
    with pytest.raises(TrackError, match=r"fix 1: time .* has no timezone"):
        GpsTrack.from_fixes([GpsFix(datetime(2024, 5, 6), 31.2, 121.4), *fixes])
    with pytest.raises(TrackError, match="no GPS fixes"):
        GpsTrack.from_fixes([])


def test_alignment_maps_frame_time_to_wall_time() -> None:
    alignment = TrackAlignment(START, offset_s=-2.5)
    assert alignment.wall_time(10.0) == START + timedelta(seconds=7.5)
    assert TrackAlignment(START).wall_time(0.0) == START
    track = _track([(0, 0, 0), (20, 200, 0)])
    vehicle = track.at(TrackAlignment(START, offset_s=3.0).wall_time(2.0))
    assert vehicle is not None and distance_m(vehicle, GeoPoint(*ORIGIN.to_geo(50.0, 0.0))) < 1e-6
    with pytest.raises(ValueError, match="no timezone"):
        TrackAlignment(datetime(2024, 5, 6, 9, 30))
    with pytest.raises(ValueError, match="finite"):
        TrackAlignment(START, offset_s=float("nan"))
