"""The pure part of de-duplication: distances, search boxes, lock cells, choosing and refining a candidate."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
from factories.observations import T0, make_observation

from service.violations.dedup import (
    LOCK_CELL_DEGREES,
    METRES_PER_DEGREE,
    DedupSettings,
    NearbyCandidate,
    SearchBox,
    attach,
    choose_candidate,
    metres_between,
)


def _offset(lat: float, lon: float, distance_m: float, bearing_deg: float) -> tuple[float, float]:
    north = distance_m * math.cos(math.radians(bearing_deg))
    east = distance_m * math.sin(math.radians(bearing_deg))
    return lat + north / METRES_PER_DEGREE, lon + east / (METRES_PER_DEGREE * math.cos(math.radians(lat)))


def _candidate(id_: int, lat: float, lon: float, *, hours_ago: float = 1.0, case_open: bool = False) -> NearbyCandidate:
    seen = T0 - timedelta(hours=hours_ago)
    return NearbyCandidate(id_, "street_occupation", lat, lon, 10.0, seen, seen, 1, 0.5, case_open)


def test_distance_of_a_thousandth_degree() -> None:
    assert metres_between(30.0, 120.0, 30.001, 120.0) == pytest.approx(111.195, abs=0.01)
    assert metres_between(60.0, 10.0, 60.0, 10.002) == pytest.approx(2 * 111.195 * 0.5, rel=1e-3)


@pytest.mark.parametrize("lat", [0.0, 30.27, -45.0, 60.0, 89.9995])
def test_search_box_holds_the_whole_circle(lat: float) -> None:
    rng = random.Random(int(lat * 100))
    box = SearchBox.around(lat, 120.0, 50.0)
    for _ in range(500):
        point_lat, point_lon = _offset(lat, 120.0, rng.uniform(0, 50.0), rng.uniform(0, 360))
        if abs(point_lat) <= 90:
            assert box.south <= point_lat <= box.north
            assert box.west <= point_lon <= box.east


def test_writers_that_could_reach_one_candidate_share_a_lock() -> None:
    rng = random.Random(5)
    for _ in range(2000):
        candidate = (rng.uniform(-60, 60), rng.uniform(-170, 170))
        radius = rng.choice([20.0, 50.0, 300.0])
        first, second = (_offset(*candidate, rng.uniform(0, radius), rng.uniform(0, 360)) for _ in range(2))
        keys = [SearchBox.around(*point, radius).lock_keys("street_occupation") for point in (first, second)]
        assert keys[0] & keys[1]
        assert len(keys[0]) <= 9


def test_lock_cells_are_per_violation_type_and_coarse() -> None:
    box = SearchBox.around(30.27, 120.15, 50.0)
    assert not box.lock_keys("street_occupation") & box.lock_keys("illegal_advertising")
    far = SearchBox.around(30.27 + 3 * LOCK_CELL_DEGREES, 120.15, 50.0)
    assert not box.lock_keys("street_occupation") & far.lock_keys("street_occupation")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"radius_m": {"street_occupation": 0.0}}, "street_occupation"),
        ({"default_radius_m": float("nan")}, "default"),
        ({"window": timedelta(hours=-1)}, "window"),
    ],
)
def test_settings_refuse_nonsense(settings: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DedupSettings(**settings)


def test_choose_the_nearest_in_radius_and_window() -> None:
    lat, lon = 30.27, 120.15
    near = _candidate(2, *_offset(lat, lon, 20, 90))
    nearer_but_stale = _candidate(1, *_offset(lat, lon, 5, 0), hours_ago=30)
    stale_with_open_case = _candidate(3, *_offset(lat, lon, 10, 180), hours_ago=24 * 30, case_open=True)
    outside = _candidate(4, *_offset(lat, lon, 60, 0))

    def choose(candidates: list[NearbyCandidate]) -> NearbyCandidate | None:
        window = timedelta(hours=24)
        return choose_candidate(candidates, lat=lat, lon=lon, first_seen=T0, last_seen=T0, radius_m=50.0, window=window)

    assert choose([near, nearer_but_stale, outside]) == near
    assert choose([near, stale_with_open_case]) == stale_with_open_case
    assert choose([nearer_but_stale, outside]) is None


def test_attach_refines_and_widens() -> None:
    before = NearbyCandidate(7, "street_occupation", 30.0, 120.0, None, T0, T0, 4, 0.8, False)
    observation = make_observation("x", minutes=90, score=0.6, accuracy_m=10.0)
    after = attach(before, observation)
    assert after.sightings_count == 5
    assert after.score == 0.8
    assert (after.first_seen, after.last_seen) == (T0, T0 + timedelta(minutes=90))
    assert observation.location is not None
    # Without an accuracy the candidate counts as 10 m, like the sighting: the midpoint.
    assert after.lat == pytest.approx((30.0 + observation.location.lat) / 2)
    assert after.accuracy_m == pytest.approx(10.0 / math.sqrt(2))
