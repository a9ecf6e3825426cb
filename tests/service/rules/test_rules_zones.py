"""Zones: allowed classes and types, hours in the city's time zone, deny zones, buffers, many zones."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import shapely

from service.rules import RuleBook, RuleSettings, TimeWindow, Zone, load_zones
from service.violations.observation import Observation
from vision.taxonomy import Taxonomy

Observe = Callable[..., Observation]
SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHT_MARKET = (31.23045, 121.47060)  # inside the example's "Night market"
LATE_MARKET = (31.2293, 121.4685)  # inside "Weekend late market" (22:00-02:00 on Fri, Sat)
MARKET_HALL_SECOND_PART = (31.2282, 121.4730)  # inside the second polygon of "Covered market hall"
SCHOOL_GATE = (31.2312, 121.4714)  # centre of the 50 m deny circle
NIGHT_MARKET_NEAR_SCHOOL = (31.23088, 121.47118)  # inside the night market, ~41 m from the school gate
ELSEWHERE = (31.2400, 121.4800)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A Shanghai time in June 2025 (the 6th is a Friday)."""
    return datetime(2025, 6, day, hour, minute, tzinfo=SHANGHAI)


def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    """The point ``north_m`` north and ``east_m`` east of ``(lat, lon)``."""
    metres_per_degree = 6_371_008.8 * math.pi / 180.0
    return (lat + north_m / metres_per_degree, lon + east_m / (metres_per_degree * math.cos(math.radians(lat))))


@pytest.fixture(scope="module")
def rules(examples: Path, taxonomy: Taxonomy) -> RuleBook:
    return RuleBook.load(examples, taxonomy=taxonomy)


def test_night_market_allows_stalls_in_its_hours(rules: RuleBook, observe: Observe) -> None:
    verdict = rules.judge(observe("vendor_stall", at=local(6, 20), dwell_s=600, where=NIGHT_MARKET))
    assert not verdict.accepted
    assert verdict.reason == 'zone "Night market" allows vendor_stall 18:00-23:00'
    assert (verdict.violation_type, verdict.event_code) == ("street_occupation", "0501")


@pytest.mark.parametrize(
    ("at", "dwell_s", "kind", "frames", "accepted"),
    [
        (local(6, 10), 600, "fixed", 50, True),  # morning: a violation
        (local(6, 17, 58), 600, "fixed", 50, False),  # two minutes early on a fixed camera: forgiven
        (local(6, 17, 50), 600, "fixed", 50, True),  # ten minutes early: not
        (local(6, 22, 55), 600, "fixed", 50, True),  # to 23:05: 5 min over the 4-min rule of rules.yaml
        (local(6, 17, 59), 0, "patrol", 5, True),  # a patrol pass at 17:59 is a moment: outside
        (local(6, 18, 0), 0, "patrol", 5, False),
        (local(6, 22, 59), 0, None, 1, False),  # external detection at 22:59
        (local(6, 23, 0), 0, None, 1, True),
    ],
)
def test_night_market_hours_edges(
    rules: RuleBook, observe: Observe, at: datetime, dwell_s: float, kind: str | None, frames: int, accepted: bool
) -> None:
    observation = observe("vendor_stall", at=at, dwell_s=dwell_s, kind=kind, frames=frames, where=NIGHT_MARKET)
    verdict = rules.judge(observation)
    assert verdict.accepted is accepted
    if accepted:
        assert verdict.reason == 'outside the hours of zone "Night market" (18:00-23:00) for vendor_stall'


@pytest.mark.parametrize(
    ("at", "accepted"),
    [
        (local(6, 23), False),  # Friday 23:00
        (local(7, 1, 30), False),  # Saturday 01:30, Friday's window
        (local(8, 1, 30), False),  # Sunday 01:30, Saturday's window
        (local(8, 23), True),  # Sunday 23:00: no window opens on Sunday
        (local(9, 1, 30), True),  # Monday 01:30
        (local(7, 2, 30), True),  # Saturday 02:30, after closing
    ],
)
def test_overnight_weekend_market(rules: RuleBook, observe: Observe, at: datetime, accepted: bool) -> None:
    verdict = rules.judge(observe("vendor_stall", at=at, dwell_s=0, kind="patrol", frames=5, where=LATE_MARKET))
    assert verdict.accepted is accepted
    if not accepted:
        assert verdict.reason == 'zone "Weekend late market" allows vendor_stall 22:00-02:00 on Fri, Sat'


def test_hours_are_read_in_the_configured_time_zone(examples: Path, taxonomy: Taxonomy, observe: Observe) -> None:
    zones = load_zones(examples / "zones.geojson", taxonomy=taxonomy)
    stall = observe("vendor_stall", at=local(6, 20), dwell_s=600, where=NIGHT_MARKET)  # 12:00 UTC
    assert not RuleBook(RuleSettings(timezone="Asia/Shanghai"), zones, taxonomy=taxonomy).judge(stall).accepted
    assert RuleBook(RuleSettings(timezone="Europe/Berlin"), zones, taxonomy=taxonomy).judge(stall).accepted


@pytest.mark.parametrize(
    ("class_name", "where", "accepted"),
    [
        ("goods_outside_shop", NIGHT_MARKET, False),  # listed
        ("banner", NIGHT_MARKET, True),  # not listed
        ("vendor_stall", ELSEWHERE, True),  # not in the zone
        ("material_pile", MARKET_HALL_SECOND_PART, False),  # the hall allows the whole type street_occupation
        ("vendor_stall", MARKET_HALL_SECOND_PART, False),
        ("poster", MARKET_HALL_SECOND_PART, True),  # illegal_advertising is not allowed there
    ],
)
def test_allow_by_class_or_violation_type(
    rules: RuleBook, observe: Observe, class_name: str, where: tuple[float, float], accepted: bool
) -> None:
    verdict = rules.judge(observe(class_name, at=local(6, 20), where=where))
    assert verdict.accepted is accepted
    if accepted:
        assert verdict.reason is None


def test_deny_zone_overrides_an_allowing_zone(rules: RuleBook, observe: Observe) -> None:
    stall = rules.judge(observe("vendor_stall", at=local(6, 20), where=NIGHT_MARKET_NEAR_SCHOOL))
    assert stall.accepted
    assert stall.reason == 'zone "School gate (50 m)" denies vendor_stall (overrides zone "Night market")'
    goods = rules.judge(observe("goods_outside_shop", at=local(6, 20), where=NIGHT_MARKET_NEAR_SCHOOL))
    assert not goods.accepted  # the school zone denies stalls only


@pytest.mark.parametrize(
    ("north_m", "east_m", "inside"),
    [(0, 0, True), (45, 0, True), (0, -49, True), (35, 35, True), (52, 0, False), (0, -52, False), (40, 40, False)],
)
def test_point_with_buffer_is_a_circle_in_metres(
    rules: RuleBook, observe: Observe, north_m: float, east_m: float, inside: bool
) -> None:
    where = offset(*SCHOOL_GATE, north_m=north_m, east_m=east_m)
    verdict = rules.judge(observe("vendor_stall", at=local(6, 10), where=where))
    assert verdict.accepted
    assert (verdict.reason == 'zone "School gate (50 m)" denies vendor_stall') is inside


def test_zones_together_cover_the_union_of_their_hours(taxonomy: Taxonomy, observe: Observe) -> None:
    square = shapely.box(121.0, 31.0, 121.01, 31.01)
    zones = [
        Zone("Evening", square, allow=("vendor_stall",), hours=(TimeWindow.parse("18:00-23:00"),)),
        Zone("Late", square, allow=("vendor_stall",), hours=(TimeWindow.parse("22:00-02:00"),)),
    ]
    rules = RuleBook(zones=zones, taxonomy=taxonomy)
    verdict = rules.judge(observe("vendor_stall", at=local(6, 19), dwell_s=6.5 * 3600, where=(31.005, 121.005)))
    assert not verdict.accepted
    assert verdict.reason == 'zones "Evening" (18:00-23:00), "Late" (22:00-02:00) together allow vendor_stall'


def test_the_zone_border_counts_as_inside(taxonomy: Taxonomy, observe: Observe) -> None:
    rules = RuleBook(
        zones=[Zone("Square", shapely.box(121.0, 31.0, 121.01, 31.01), allow=("banner",))], taxonomy=taxonomy
    )
    assert not rules.judge(observe("banner", where=(31.0, 121.005))).accepted
    assert rules.judge(observe("banner", where=(30.9999, 121.005))).accepted


def test_zone_with_an_unknown_name_is_refused(taxonomy: Taxonomy) -> None:
    zone = Zone("Square", shapely.box(121.0, 31.0, 121.01, 31.01), allow=("vendor_stal",))
    with pytest.raises(ValueError, match="'vendor_stal' is neither a class nor a violation type"):
        RuleBook(zones=[zone], taxonomy=taxonomy)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"allow": (), "deny": ()},
        {"deny": ("banner",), "hours": (TimeWindow.parse("18:00-23:00"),)},
        {"allow": ("banner",), "geometry": shapely.LineString([(121, 31), (121.1, 31.1)])},
    ],
)
def test_zone_rejects_nonsense(kwargs: dict[str, object]) -> None:
    values: dict[str, object] = {"name": "Z", "geometry": shapely.box(121, 31, 121.01, 31.01)} | kwargs
    with pytest.raises(ValueError):
        Zone(**values)  # type: ignore[arg-type]


def test_hundreds_of_zones_give_the_same_answers_as_checking_each(taxonomy: Taxonomy, observe: Observe) -> None:
    generator = random.Random(7)
    zones = []
    for index in range(400):
        lon, lat = 121.0 + generator.random() * 0.2, 31.0 + generator.random() * 0.2
        size = generator.uniform(0.0005, 0.01)
        shape = (
            shapely.Point(lon, lat).buffer(size, quad_segs=8)
            if index % 2
            else shapely.box(lon, lat, lon + size, lat + size)
        )
        zones.append(Zone(f"zone {index}", shape, allow=(generator.choice(["vendor_stall", "banner", "shed"]),)))
    rules = RuleBook(zones=zones, taxonomy=taxonomy)
    for _ in range(1000):
        lat, lon = 31.0 + generator.random() * 0.2, 121.0 + generator.random() * 0.2
        class_name = generator.choice(["vendor_stall", "banner", "shed", "poster"])
        expected = any(class_name in zone.allow and zone.geometry.intersects(shapely.Point(lon, lat)) for zone in zones)
        assert rules.judge(observe(class_name, where=(lat, lon))).accepted is not expected
