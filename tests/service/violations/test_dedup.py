"""The pure part of de-duplication: distances, search boxes, lock cells, choosing and refining a candidate."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import timedelta

import pytest
from factories.observations import T0, make_observation, place

from service.geo import METRES_PER_DEGREE
from service.violations.dedup import (
    LOCK_CELL_DEGREES,
    DedupSettings,
    NearbyCandidate,
    SearchBox,
    attach,
    choose_candidate,
)


def _offset(lat: float, lon: float, distance_m: float, bearing_deg: float) -> tuple[float, float]:
    north = distance_m * math.cos(math.radians(bearing_deg))
    east = distance_m * math.sin(math.radians(bearing_deg))
    return lat + north / METRES_PER_DEGREE, lon + east / (METRES_PER_DEGREE * math.cos(math.radians(lat)))


def _candidate(
    id_: int,
    lat: float,
    lon: float,
    *,
    hours_ago: float = 1.0,
    status: str = "open",
    case_open: bool = False,
    class_name: str = "vendor_stall",
) -> NearbyCandidate:
    seen = T0 - timedelta(hours=hours_ago)
    return NearbyCandidate(
        id=id_,
        violation_type="street_occupation",
        class_name=class_name,
        lat=lat,
        lon=lon,
        accuracy_m=5.0,
        first_seen=seen,
        last_seen=seen,
        sightings_count=1,
        score=0.5,
        status=status,
        case_open=case_open,
    )


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
        ({"max_radius_m": -5.0}, "max_radius_m"),
        ({"accuracy_sigmas": -1.0}, "accuracy_sigmas"),
    ],
)
def test_settings_refuse_nonsense(settings: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DedupSettings(**settings)


@pytest.mark.parametrize(
    ("settings", "candidate_accuracy", "accuracy", "reach"),
    [
        ({}, 3.0, 4.0, 8.0),  # the type's radius for stated accuracies
        ({}, 3.0, None, 50.0),  # no stated accuracy: the widest reach
        ({"max_radius_m": 30.0}, 3.0, None, 30.0),
        ({"radius_m": {"street_occupation": 60.0}}, 3.0, None, 60.0),  # never below the type's radius
        ({"accuracy_sigmas": 2.0}, 3.0, 4.0, 10.0),  # widened: 2 x hypot(3, 4)
        ({"accuracy_sigmas": 2.0}, 1.0, 1.0, 8.0),  # good positions keep the radius
        ({"accuracy_sigmas": 2.0}, 30.0, 40.0, 50.0),  # up to max_radius_m
    ],
)
def test_reach(settings: dict, candidate_accuracy: float, accuracy: float | None, reach: float) -> None:
    assert DedupSettings(**settings).reach_m("street_occupation", candidate_accuracy, accuracy) == pytest.approx(reach)


def test_default_radii_per_type() -> None:
    settings = DedupSettings()
    radii = {name: settings.radius_for(name) for name in ("illegal_advertising", "street_occupation", "parking")}
    assert radii == {"illegal_advertising": 5.0, "street_occupation": 8.0, "parking": 50.0}
    assert settings.search_radius_m("illegal_advertising", 3.0) == 5.0
    assert settings.search_radius_m("illegal_advertising", None) == 50.0
    assert DedupSettings(accuracy_sigmas=1.0).search_radius_m("illegal_advertising", 3.0) == 50.0


def _choose(candidates: list[NearbyCandidate], **changes: object) -> NearbyCandidate | None:
    observation = make_observation("x", accuracy_m=5.0, **changes)  # type: ignore[arg-type]
    return choose_candidate(candidates, observation, violation_type="street_occupation", settings=DedupSettings())


def test_choose_the_nearest_live_candidate_at_any_age() -> None:
    lat, lon = place()
    near = _candidate(2, *_offset(lat, lon, 6, 90))
    nearer_but_weeks_old = _candidate(1, *_offset(lat, lon, 3, 0), hours_ago=24 * 30)
    outside = _candidate(4, *_offset(lat, lon, 9, 0))
    assert _choose([near, outside]) == near
    assert _choose([near, nearer_but_weeks_old, outside]) == nearer_but_weeks_old
    assert _choose([outside]) is None


@pytest.mark.parametrize(
    ("status", "case_open", "hours_ago", "takes"),
    [
        ("confirmed", True, 24 * 30, True),  # an open case: any age
        ("confirmed", False, 23, True),  # its case ended: within the window
        ("confirmed", False, 25, False),
        ("rejected", False, 23, True),
        ("rejected", False, 25, False),
        ("closed", False, 2, True),
        ("closed", False, 48, False),
    ],
)
def test_decided_candidates_take_sightings_within_the_window(
    status: str, case_open: bool, hours_ago: float, takes: bool
) -> None:
    candidate = _candidate(1, *place(east_m=2), hours_ago=hours_ago, status=status, case_open=case_open)
    assert candidate.live is (status == "open" or case_open)
    assert (_choose([candidate]) == candidate) is takes


def test_class_must_match_unless_turned_off() -> None:
    goods = _candidate(1, *place(east_m=2), class_name="goods_outside_shop")
    assert _choose([goods]) is None
    assert _choose([goods], class_name="goods_outside_shop") == goods
    observation = make_observation("x", accuracy_m=5.0)
    by_type = DedupSettings(match_class=False)
    assert choose_candidate([goods], observation, violation_type="street_occupation", settings=by_type) == goods


def test_attach_refines_and_widens() -> None:
    before = replace(_candidate(7, 30.0, 120.0), accuracy_m=None, first_seen=T0, last_seen=T0, score=0.8)
    before = replace(before, sightings_count=4)
    observation = make_observation("x", minutes=90, score=0.6, accuracy_m=10.0)
    after = attach(before, observation)
    assert after.sightings_count == 5
    assert after.score == 0.8
    assert (after.first_seen, after.last_seen) == (T0, T0 + timedelta(minutes=90))
    assert observation.location is not None
    # Without an accuracy the candidate counts as 10 m, like the sighting: the midpoint.
    assert after.lat == pytest.approx((30.0 + observation.location.lat) / 2)
    assert after.accuracy_m == pytest.approx(10.0 / math.sqrt(2))


def test_a_decided_candidate_only_counts_what_it_absorbs() -> None:
    before = _candidate(7, 30.0, 120.0, status="rejected")
    after = attach(before, make_observation("x", minutes=90, score=0.9, accuracy_m=1.0))
    assert after == replace(before, sightings_count=2)
