"""Loading a rules folder: the example, the conventions, and errors that name the file and the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from service.rules import DEFAULT_TIMEZONE, RuleBook, RulesError
from vision.taxonomy import Taxonomy

SQUARE = [[[121.0, 31.0], [121.01, 31.0], [121.01, 31.01], [121.0, 31.01], [121.0, 31.0]]]


def feature(geometry: dict[str, Any] | None = None, **properties: Any) -> dict[str, Any]:
    """A zone feature: the square and ``allow: [vendor_stall]`` unless told otherwise."""
    props: dict[str, Any] = {"name": "Market", "allow": ["vendor_stall"]} | properties
    return {
        "type": "Feature",
        "properties": {key: value for key, value in props.items() if value is not None},
        "geometry": geometry if geometry is not None else {"type": "Polygon", "coordinates": SQUARE},
    }


def collection(*features: dict[str, Any]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def polygon(*ring: list[float]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [list(ring)]}


GOOD_PERMIT = "- {number: P-1, class: banner, lat: 31.0, lon: 121.0, radius_m: 10, valid_from: 2025-01-01}\n"
CSV_HEADER = "number,class,lat,lon,radius_m,valid_from,valid_to\n"

BAD_FILES = [
    # zones.geojson
    ("zones.geojson", '{"type": "FeatureCollection", ', "file", "not valid JSON"),
    ("zones.geojson", json.dumps(feature()), "type", "FeatureCollection"),
    ("zones.geojson", '{"type": "FeatureCollection", "features": {}}', "features", "list of features"),
    (
        "zones.geojson",
        collection(feature(polygon([121.0, 31.0], [121.01, 31.0], [121.01, 31.01], [121.0, 31.01]))),
        "features[0].geometry.coordinates[0]",
        "ring is not closed",
    ),
    (
        "zones.geojson",
        collection(feature(polygon([121.0, 31.0], [121.01, 31.0], [121.0, 31.0]))),
        "features[0].geometry.coordinates[0]",
        "at least 4 positions",
    ),
    (
        "zones.geojson",
        collection(feature(polygon([121.0, 31.0], [121.01, 31.01], [121.01, 31.0], [121.0, 31.01], [121.0, 31.0]))),
        "features[0].geometry",
        "Self-intersection",
    ),
    (
        "zones.geojson",
        collection(feature(polygon([31.0, 121.0], [31.0, 121.01], [31.01, 121.01], [31.0, 121.0]))),
        "features[0].geometry.coordinates[0][0]",
        "longitude first",
    ),
    (
        "zones.geojson",
        collection(feature(), feature(name="Hall", allow=["street_occupation", "vendor_stal"])),
        "features[1].properties.allow[1]",
        "'vendor_stal' is neither a class nor a violation type",
    ),
    ("zones.geojson", collection(feature(allow="vendor_stall")), "features[0].properties.allow", "expected a list"),
    (
        "zones.geojson",
        collection(feature(hours=["18:00-23:00", "25:00-02:00"])),
        "features[0].properties.hours[1]",
        "'25:00-02:00' is not a time window",
    ),
    ("zones.geojson", collection(feature(hours="6pm-11pm")), "features[0].properties.hours", "'6pm-11pm'"),
    ("zones.geojson", collection(feature(hours="18:00-18:00")), "features[0].properties.hours", "same time"),
    ("zones.geojson", collection(feature(weekdays=["fri", "sabado"])), "features[0].properties.weekdays", "sabado"),
    ("zones.geojson", collection(feature(name=" ")), "features[0].properties.name", "non-empty string"),
    ("zones.geojson", collection(feature(), feature()), "features[1].properties.name", "repeats features[0]"),
    ("zones.geojson", collection(feature(allow=None)), "features[0].properties", "allow or deny"),
    (
        "zones.geojson",
        collection(feature(allow=None, deny=["vendor_stall"], hours="07:00-09:00")),
        "features[0].properties.hours",
        "deny-only zone",
    ),
    (
        "zones.geojson",
        collection(feature({"type": "LineString", "coordinates": [[121.0, 31.0], [121.1, 31.1]]})),
        "features[0].geometry.type",
        "Polygon or MultiPolygon",
    ),
    (
        "zones.geojson",
        collection(feature({"type": "Point", "coordinates": [121.0, 31.0]})),
        "features[0].geometry.type",
        "Point with buffer_m",
    ),
    ("zones.geojson", collection(feature(buffer_m=-5)), "features[0].properties.buffer_m", "between 0 and 10000"),
    (
        "zones.geojson",
        collection(feature({"type": "MultiPolygon", "coordinates": [SQUARE, [[[121.0, 31.0], [121.0, 31.0]]]]})),
        "features[0].geometry.coordinates[1][0]",
        "at least 4 positions",
    ),
    # permits.yaml / .json / .csv
    ("permits.yaml", GOOD_PERMIT + GOOD_PERMIT.replace("}", ", valid_to: 2025-02-30}"), "[1].valid_to", "2025-02-30"),
    ("permits.yaml", GOOD_PERMIT.replace("2025-01-01", "2024-13-01"), "[0].valid_from", "not a valid date"),
    ("permits.yaml", GOOD_PERMIT.replace("radius_m: 10, ", ""), "[0].radius_m", "missing"),
    ("permits.yaml", GOOD_PERMIT.replace("radius_m: 10", "radius_m: ten"), "[0].radius_m", "expected a number"),
    ("permits.yaml", GOOD_PERMIT.replace("radius_m: 10", "radius_m: 0"), "[0].radius_m", "expected metres"),
    ("permits.yaml", GOOD_PERMIT.replace("class: banner", "class: baner"), "[0].class", "'baner' is not a class"),
    ("permits.yaml", GOOD_PERMIT.replace("lat: 31.0", "lat: 121.0"), "[0].lat", "not a latitude"),
    ("permits.yaml", GOOD_PERMIT.replace("}", ", valid_to: 2024-12-31}"), "[0].valid_to", "before valid_from"),
    ("permits.yaml", "number: P-1\n", "(top level)", "expected a list of permits"),
    ("permits.yaml", "- [unclosed\n", "file", "not valid YAML"),
    ("permits.json", '[{"number": "P-1", "class": "banner"}]', "[0].lat", "missing"),
    ("permits.csv", "number,class,lat,lon,radius_m\nP-1,banner,31,121,10\n", "line 1 (header)", "valid_from"),
    (
        "permits.csv",
        CSV_HEADER + "P-1,banner,31,121,10,2025-01-01,\nP-2,banner,31,121,10,2025-01-01,2025/13/01\n",
        "line 3: valid_to",
        "not a valid date",
    ),
    ("permits.csv", CSV_HEADER + "P-1,banner,north,121,10,2025-01-01,\n", "line 2: lat", "expected a number"),
    (
        "permits.csv",  # blank lines still count
        CSV_HEADER + "\nP-1,banner,31,121,10,2025-01-01,\n\nP-2,banner,31,121,ten,2025-01-01,\n",
        "line 5: radius_m",
        "expected a number",
    ),
    # rules.yaml
    ("rules.yaml", "timezon: Asia/Shanghai\n", "timezon", "unknown key"),
    ("rules.yaml", "timezone: Asia/Beijing\n", "timezone", "not an IANA time zone"),
    ("rules.yaml", "persistence:\n  vendor_stal: {min_score: 0.5}\n", "persistence.vendor_stal", "not a class"),
    ("rules.yaml", "persistence:\n  all: {min_scor: 0.5}\n", "persistence.all.min_scor", "unknown field"),
    ("rules.yaml", "persistence:\n  poster: {patrol_frames: 0}\n", "persistence.poster", "patrol_frames"),
    ("rules.yaml", "persistence:\n  poster: {min_score: high}\n", "persistence.poster.min_score", "a number"),
    ("rules.yaml", "persistence:\n  poster: {fixed_coverage: 50}\n", "persistence.poster", "fixed_coverage"),
    ("rules.yaml", "persistence: [1, 2]\n", "persistence", "expected a mapping"),
    ("rules.yaml", "zones: [a.geojson]\n", "zones", "file path"),
    ("rules.yaml", "timezone: [\n", "file", "not valid YAML"),
]


@pytest.mark.parametrize(("file_name", "content", "field", "reason"), BAD_FILES)
def test_loading_errors_name_the_file_and_the_field(
    tmp_path: Path, taxonomy: Taxonomy, file_name: str, content: str, field: str, reason: str
) -> None:
    path = tmp_path / file_name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        RuleBook.load(tmp_path, taxonomy=taxonomy)
    error = caught.value
    assert (error.path, error.field) == (path, field)
    assert reason in error.reason
    assert str(error).startswith(f"{path}: {field}: ")


def test_the_example_folder_loads(examples: Path, taxonomy: Taxonomy) -> None:
    rules = RuleBook.load(examples, taxonomy=taxonomy)
    assert [zone.name for zone in rules.zones] == [
        "Night market",
        "Weekend late market",
        "Covered market hall",
        "School gate (50 m)",
    ]
    assert [permit.number for permit in rules.permits] == ["GG-2024-0012", "HF-2025-0407", "GG-2023-0101"]
    assert rules.settings.timezone == "Asia/Shanghai"
    assert rules.settings.persistence_of("vendor_stall").fixed_dwell_seconds == 240
    assert rules.settings.persistence_of("poster").patrol_frames == 2
    assert rules.settings.persistence_of("banner").patrol_frames == 3


def test_rules_yaml_can_be_loaded_directly_and_names_its_files(tmp_path: Path, taxonomy: Taxonomy) -> None:
    (tmp_path / "city").mkdir()
    (tmp_path / "city" / "markets.geojson").write_text(collection(feature()), encoding="utf-8")
    (tmp_path / "city" / "approved.csv").write_text(CSV_HEADER + "P-1,banner,31,121,10,2025-01-01,\n", "utf-8")
    rules_path = tmp_path / "rules.yaml"
    rules_path.write_text(
        "timezone: Europe/Berlin\nzones: city/markets.geojson\npermits: city/approved.csv\n"
        "persistence:\n  all: {min_score: 0.4}\n  banner: {fixed_dwell_seconds: 30, fixed_coverage: 0.3}\n",
        encoding="utf-8",
    )
    rules = RuleBook.load(rules_path, taxonomy=taxonomy)
    assert [zone.name for zone in rules.zones] == ["Market"]
    assert [permit.number for permit in rules.permits] == ["P-1"]
    assert rules.settings.timezone == "Europe/Berlin"
    banner, stall = rules.settings.persistence_of("banner"), rules.settings.persistence_of("vendor_stall")
    assert (banner.fixed_dwell_seconds, banner.min_score, banner.fixed_coverage) == (30, 0.4, 0.3)
    assert (stall.fixed_dwell_seconds, stall.min_score, stall.fixed_coverage) == (180, 0.4, 0.5)


def test_a_folder_with_only_zones_uses_the_default_settings(tmp_path: Path, taxonomy: Taxonomy) -> None:
    (tmp_path / "zones.geojson").write_text(collection(feature()), encoding="utf-8")
    rules = RuleBook.load(tmp_path, taxonomy=taxonomy)
    assert len(rules.zones) == 1 and rules.permits == ()
    assert rules.settings.timezone == DEFAULT_TIMEZONE


def test_an_empty_folder_has_no_zones_or_permits(tmp_path: Path, taxonomy: Taxonomy) -> None:
    rules = RuleBook.load(tmp_path, taxonomy=taxonomy)
    assert rules.zones == () and rules.permits == ()


def test_a_missing_rules_path_is_named(tmp_path: Path, taxonomy: Taxonomy) -> None:
    with pytest.raises(RulesError, match="no such rules folder or file") as caught:
        RuleBook.load(tmp_path / "nowhere", taxonomy=taxonomy)
    assert caught.value.path == tmp_path / "nowhere"


def test_a_missing_file_named_in_rules_yaml_is_named(tmp_path: Path, taxonomy: Taxonomy) -> None:
    (tmp_path / "rules.yaml").write_text("zones: missing.geojson\n", encoding="utf-8")
    with pytest.raises(RulesError, match="cannot read") as caught:
        RuleBook.load(tmp_path, taxonomy=taxonomy)
    assert caught.value.path == tmp_path / "missing.geojson"


def test_a_zones_file_is_not_a_rules_file(examples: Path, taxonomy: Taxonomy) -> None:
    with pytest.raises(RulesError, match=r"expected a rules folder or a rules\.yaml"):
        RuleBook.load(examples / "zones.geojson", taxonomy=taxonomy)


def test_two_permits_files_are_ambiguous(tmp_path: Path, taxonomy: Taxonomy) -> None:
    (tmp_path / "permits.yaml").write_text(GOOD_PERMIT, encoding="utf-8")
    (tmp_path / "permits.csv").write_text(CSV_HEADER, encoding="utf-8")
    with pytest.raises(RulesError, match="several permits files"):
        RuleBook.load(tmp_path, taxonomy=taxonomy)


def test_permits_of_another_kind_are_refused(tmp_path: Path, taxonomy: Taxonomy) -> None:
    from service.rules import load_permits

    path = tmp_path / "permits.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(RulesError, match=r"\.yaml, \.yml, \.json or \.csv"):
        load_permits(path, taxonomy=taxonomy)
