"""Local metres around a point: round trips, distances and bearings against known values."""

from __future__ import annotations

import numpy as np
import pytest

from vision.frame import GeoPoint
from vision.geo import LocalFrame, bearing_deg, distance_m, offset


@pytest.mark.parametrize("lat", [0.0, 22.5, 31.2, 40.0, 60.0])
def test_metres_round_trip(lat: float) -> None:
    frame = LocalFrame(lat, 121.47)
    for east, north in [(0.0, 0.0), (120.0, -35.5), (-2500.0, 4000.0)]:
        back = frame.to_local(*frame.to_geo(east, north))
        assert back == pytest.approx((east, north), abs=1e-6)
    metres = np.array([[10.0, 20.0], [-300.0, 5.0]])
    assert frame.to_local_array(frame.to_geo_array(metres)) == pytest.approx(metres, abs=1e-6)


def test_a_degree_of_latitude_is_the_ellipsoids_length() -> None:
    # WGS-84 meridian arc: 110 574 m per degree at the equator, 111 694 m at 90°; ~110 950 m at 35°.
    assert distance_m(GeoPoint(0.0, 0.0), GeoPoint(0.01, 0.0)) == pytest.approx(1105.74, abs=0.5)
    assert distance_m(GeoPoint(35.0, 120.0), GeoPoint(35.01, 120.0)) == pytest.approx(1109.6, abs=1.0)
    # A degree of longitude shrinks with the cosine of latitude (111 320 m at the equator).
    assert distance_m(GeoPoint(0.0, 0.0), GeoPoint(0.0, 0.01)) == pytest.approx(1113.2, abs=0.5)
    assert distance_m(GeoPoint(60.0, 10.0), GeoPoint(60.0, 10.01)) == pytest.approx(557.8, abs=1.0)


def test_distance_is_symmetric_and_matches_haversine_in_a_city() -> None:
    a, b = GeoPoint(31.2304, 121.4737), GeoPoint(31.2452, 121.5031)  # ~3.2 km across Shanghai
    radius = 6_371_008.8
    p1, p2 = np.radians([a.lat, b.lat])
    dlon = np.radians(b.lon - a.lon)
    hav = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    haversine = 2 * radius * np.arcsin(np.sqrt(hav))
    assert distance_m(a, b) == pytest.approx(distance_m(b, a))
    assert distance_m(a, b) == pytest.approx(haversine, rel=5e-3)  # sphere vs ellipsoid: within half a percent


@pytest.mark.parametrize("bearing", [0.0, 45.0, 90.0, 180.0, 271.5])
def test_offset_goes_the_distance_along_the_bearing(bearing: float) -> None:
    start = GeoPoint(30.0, 120.0, accuracy_m=3.0, heading_deg=10.0)
    moved = offset(start, bearing, 250.0)
    assert distance_m(start, moved) == pytest.approx(250.0, abs=1e-3)
    assert bearing_deg(start, moved) == pytest.approx(bearing % 360.0, abs=1e-3)
    assert (moved.accuracy_m, moved.heading_deg) == (3.0, 10.0)


def test_across_the_antimeridian() -> None:
    west, east = GeoPoint(-17.0, 179.9995), GeoPoint(-17.0, -179.9995)
    assert distance_m(west, east) == pytest.approx(106.4, abs=0.5)
    assert bearing_deg(west, east) == pytest.approx(90.0, abs=0.01)
    assert offset(west, 90.0, 106.4).lon == pytest.approx(-179.9995, abs=1e-6)


def test_origin_must_be_usable() -> None:
    with pytest.raises(ValueError, match="finite"):
        LocalFrame(float("nan"), 0.0)
    with pytest.raises(ValueError, match="latitude"):
        LocalFrame(89.5, 0.0)
