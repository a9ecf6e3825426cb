"""Permits: radius, class, validity dates in the local calendar, and the three file formats."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import shapely

from service.rules import Permit, RuleBook, Zone, load_permits
from service.violations.observation import Observation
from vision.taxonomy import Taxonomy

Observe = Callable[..., Observation]
SHANGHAI = ZoneInfo("Asia/Shanghai")
SIGNBOARD = (31.23120, 121.47030)  # GG-2024-0012, radius 10 m, 2024-01-01 to 2026-12-31
BANNER = (31.23065, 121.46980)  # HF-2025-0407, radius 15 m, April 2025
AD_BOARD = (31.22980, 121.47150)  # GG-2023-0101, radius 5 m, from 2023-06-01, no expiry


def at_local(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def north_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return (point[0] + metres / (6_371_008.8 * math.pi / 180.0), point[1])


@pytest.fixture(scope="module")
def rules(examples: Path, taxonomy: Taxonomy) -> RuleBook:
    return RuleBook.load(examples, taxonomy=taxonomy)


@pytest.mark.parametrize(("metres", "accepted"), [(0, False), (6, False), (9.9, False), (10.5, True), (30, True)])
def test_permit_radius(rules: RuleBook, observe: Observe, metres: float, accepted: bool) -> None:
    verdict = rules.judge(observe("signboard", at=at_local(2025, 6, 6), where=north_of(SIGNBOARD, metres)))
    assert verdict.accepted is accepted
    if not accepted:
        assert verdict.reason == (
            f"permit GG-2024-0012 allows signboard within 10 m "
            f"({metres:.0f} m from its position, valid 2024-01-01 to 2026-12-31)"
        )


def test_permit_is_for_its_class_only(rules: RuleBook, observe: Observe) -> None:
    assert rules.judge(observe("cantilever", at=at_local(2025, 6, 6), where=SIGNBOARD)).accepted


@pytest.mark.parametrize(
    ("first", "dwell_s", "accepted"),
    [
        (at_local(2025, 4, 1, 0, 0), 600, False),  # first day
        (at_local(2025, 4, 30, 23, 30), 600, False),  # last day, local calendar (15:30 UTC)
        (at_local(2025, 5, 1, 0, 10), 600, True),  # expired, though still 30 April in UTC
        (at_local(2025, 3, 31, 23, 50), 600, True),  # not yet valid
        (at_local(2025, 4, 30, 23, 55), 600, True),  # stayed past expiry: the permit must cover the whole stay
    ],
)
def test_permit_validity_dates(
    rules: RuleBook, observe: Observe, first: datetime, dwell_s: float, accepted: bool
) -> None:
    verdict = rules.judge(observe("banner", at=first, dwell_s=dwell_s, where=BANNER))
    assert verdict.accepted is accepted
    if not accepted:
        assert verdict.reason is not None and verdict.reason.startswith("permit HF-2025-0407 allows banner")


@pytest.mark.parametrize(
    ("day", "accepted"), [(date(2023, 5, 31), True), (date(2023, 6, 1), False), (date(2040, 1, 1), False)]
)
def test_permit_without_expiry(rules: RuleBook, observe: Observe, day: date, accepted: bool) -> None:
    verdict = rules.judge(observe("ad_board", at=at_local(day.year, day.month, day.day), where=AD_BOARD))
    assert verdict.accepted is accepted
    if not accepted:
        assert (
            verdict.reason
            == "permit GG-2023-0101 allows ad_board within 5 m (0 m from its position, valid from 2023-06-01)"
        )


def test_the_nearest_covering_permit_is_cited(taxonomy: Taxonomy, observe: Observe) -> None:
    permits = [
        Permit("FAR", "banner", 31.0, 121.0, 50.0, date(2025, 1, 1)),
        Permit("NEAR", "banner", 31.0001, 121.0, 50.0, date(2025, 1, 1)),
        Permit("NEAREST-EXPIRED", "banner", 31.00011, 121.0, 50.0, date(2024, 1, 1), date(2024, 12, 31)),
    ]
    verdict = RuleBook(permits=permits, taxonomy=taxonomy).judge(observe("banner", where=(31.00012, 121.0)))
    assert verdict.reason is not None and verdict.reason.startswith("permit NEAR allows")


def test_permits_apply_inside_deny_zones(taxonomy: Taxonomy, observe: Observe) -> None:
    deny = Zone("No stalls", shapely.box(120.99, 30.99, 121.01, 31.01), deny=("vendor_stall",))
    permit = Permit("TS-1", "vendor_stall", 31.0, 121.0, 20.0, date(2025, 1, 1))
    verdict = RuleBook(zones=[deny], permits=[permit], taxonomy=taxonomy).judge(observe(where=(31.0, 121.0)))
    assert not verdict.accepted
    assert verdict.reason is not None and verdict.reason.startswith("permit TS-1 allows vendor_stall")


def test_csv_json_and_yaml_read_the_same_permits(examples: Path, taxonomy: Taxonomy, tmp_path: Path) -> None:
    from_yaml = load_permits(examples / "permits.yaml", taxonomy=taxonomy)
    rows = ["number,class,lat,lon,radius_m,valid_from,valid_to,holder,address"]
    for permit in from_yaml:
        valid_to = permit.valid_to.isoformat() if permit.valid_to else ""
        row = [permit.number, permit.class_name, permit.lat, permit.lon, permit.radius_m, permit.valid_from, valid_to]
        rows += ["", ",".join(str(value) for value in row) + f",{permit.holder or ''},somewhere"]
    csv_path = tmp_path / "permits.csv"
    csv_path.write_text("\ufeff" + "\n".join(rows) + "\n", encoding="utf-8")  # with a spreadsheet's BOM
    records = [
        {
            "number": p.number,
            "class": p.class_name,
            "lat": p.lat,
            "lon": p.lon,
            "radius_m": p.radius_m,
            "valid_from": p.valid_from.isoformat(),
            "valid_to": p.valid_to.isoformat() if p.valid_to else None,
            "holder": p.holder,
        }
        for p in from_yaml
    ]
    json_path = tmp_path / "permits.json"
    json_path.write_text(json.dumps(records), encoding="utf-8")
    assert len(from_yaml) == 3
    assert load_permits(csv_path, taxonomy=taxonomy) == from_yaml
    assert load_permits(json_path, taxonomy=taxonomy) == from_yaml


def test_an_empty_permits_file_has_no_permits(tmp_path: Path, taxonomy: Taxonomy) -> None:
    path = tmp_path / "permits.yaml"
    path.write_text("# none yet\n", encoding="utf-8")
    assert load_permits(path, taxonomy=taxonomy) == ()


@pytest.mark.parametrize(
    "changes",
    [{"radius_m": 0.0}, {"lat": 95.0}, {"valid_to": date(2024, 12, 31)}, {"number": ""}],
)
def test_permit_rejects_nonsense(changes: dict[str, object]) -> None:
    values: dict[str, object] = {
        "number": "P",
        "class_name": "banner",
        "lat": 31.0,
        "lon": 121.0,
        "radius_m": 10.0,
        "valid_from": date(2025, 1, 1),
    } | changes
    with pytest.raises(ValueError):
        Permit(**values)  # type: ignore[arg-type]


def test_permit_of_an_unknown_class_is_refused(taxonomy: Taxonomy) -> None:
    with pytest.raises(ValueError, match="'bannner' is not a class"):
        RuleBook(permits=[Permit("P", "bannner", 31.0, 121.0, 10.0, date(2025, 1, 1))], taxonomy=taxonomy)
