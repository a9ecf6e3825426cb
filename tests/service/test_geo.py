"""The service's map helpers: distances, headings and lookup boxes at city scale."""

from __future__ import annotations

import pytest

from service.geo import METRES_PER_DEGREE, degree_box, distance_m, heading_difference_deg


def test_distance_of_a_thousandth_degree() -> None:
    assert distance_m(30.0, 120.0, 30.001, 120.0) == pytest.approx(111.195, abs=0.01)
    assert distance_m(60.0, 10.0, 60.0, 10.002) == pytest.approx(2 * 111.195 * 0.5, rel=1e-3)
    assert distance_m(31.2, 121.4, 31.2, 121.4) == 0.0


@pytest.mark.parametrize(("a", "b", "expected"), [(350.0, 10.0, 20.0), (10.0, 350.0, 20.0), (0.0, 180.0, 180.0)])
def test_heading_difference_is_the_smaller_angle(a: float, b: float, expected: float) -> None:
    assert heading_difference_deg(a, b) == pytest.approx(expected)


def test_degree_box_is_in_bounds_order_and_holds_the_circle() -> None:
    min_lon, min_lat, max_lon, max_lat = degree_box(60.0, 10.0, 100.0)
    assert max_lat - 60.0 == pytest.approx(100.0 / METRES_PER_DEGREE)
    assert max_lon - 10.0 == pytest.approx(2 * 100.0 / METRES_PER_DEGREE)
    assert distance_m(60.0, 10.0, 60.0, max_lon) == pytest.approx(100.0, rel=1e-3)
    assert min_lat < 60.0 < max_lat and min_lon < 10.0 < max_lon
