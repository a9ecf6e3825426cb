"""The taxonomy file and its loader."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from vision.taxonomy import DEFAULT_TAXONOMY_PATH, TaxonomyError, load_taxonomy

VOCABULARY = (
    "vendor_stall",
    "goods_outside_shop",
    "material_pile",
    "banner",
    "poster",
    "ad_board",
    "signboard",
    "cantilever",
    "win_ad",
    "shed",
    "rooftop_addition",
)


def test_default_file_holds_the_vocabulary_in_class_id_order() -> None:
    taxonomy = load_taxonomy()
    assert taxonomy.path == DEFAULT_TAXONOMY_PATH
    assert taxonomy.class_names == taxonomy.names == VOCABULARY
    assert [c.class_id for c in taxonomy.classes] == list(range(len(VOCABULARY)))


@pytest.mark.parametrize(
    ("name", "violation", "code", "major"),
    [
        ("vendor_stall", "street_occupation", "0501", "05"),
        ("goods_outside_shop", "street_occupation", "0504", "05"),
        ("material_pile", "street_occupation", "0507", "05"),
        ("banner", "illegal_advertising", "0202", "02"),
        ("poster", "illegal_advertising", "0201", "02"),
        ("ad_board", "illegal_advertising", "0203", "02"),
        ("signboard", "illegal_advertising", "0202", "02"),
        ("cantilever", "illegal_advertising", "0202", "02"),
        ("win_ad", "illegal_advertising", "0202", "02"),
        ("shed", "illegal_construction", "0101", "01"),
        ("rooftop_addition", "illegal_construction", "0101", "01"),
    ],
)
def test_each_class_maps_to_its_violation_and_event_code(name: str, violation: str, code: str, major: str) -> None:
    taxonomy = load_taxonomy()
    detector_class = taxonomy.get(name)
    assert detector_class.violation.key == violation
    assert detector_class.is_violation
    event = taxonomy.event_of(name)
    assert event is not None
    assert event.code == code
    assert event.major.code == major
    assert detector_class.name_zh and detector_class.name_en


def test_names_in_both_languages() -> None:
    taxonomy = load_taxonomy()
    event = taxonomy.event_of("vendor_stall")
    assert event is not None
    assert (event.name_zh, event.major.name_zh) == ("无照经营游商", "街面秩序")
    assert taxonomy.violation_of("shed").name_zh == "违法建筑"
    assert set(taxonomy.major_classes) == {"01", "02", "03", "04", "05"}


def test_lookups() -> None:
    taxonomy = load_taxonomy()
    assert "banner" in taxonomy
    assert "window" not in taxonomy
    assert [c.name for c in taxonomy.classes_of("illegal_construction")] == ["shed", "rooftop_addition"]
    with pytest.raises(KeyError, match="window"):
        taxonomy.get("window")
    with pytest.raises(KeyError):
        taxonomy.classes_of("littering")


def _write(tmp_path: Path, mutate: Callable[[dict[str, Any]], object]) -> Path:
    data = yaml.safe_load(DEFAULT_TAXONOMY_PATH.read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_city_extension_is_data_only(tmp_path: Path) -> None:
    def extend(data: dict[str, Any]) -> None:
        data["event_codes"]["0599"] = {"major": "05", "zh": "占道洗车", "en": "Car washing on the street"}
        data["classes"].append(
            {
                "name": "car_wash",
                "zh": "占道洗车",
                "en": "Car washing",
                "violation": "street_occupation",
                "event_code": "0599",
            }
        )
        data["classes"].append({"name": "window", "zh": "窗户", "en": "Window", "violation": "context"})

    taxonomy = load_taxonomy(_write(tmp_path, extend))
    assert taxonomy.get("car_wash").class_id == len(VOCABULARY)
    assert taxonomy.event_of("car_wash").code == "0599"  # type: ignore[union-attr]
    assert taxonomy.event_of("window") is None
    assert not taxonomy.get("window").is_violation


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["classes"][0].update(event_code="0999"), "classes[0].event_code"),
        (lambda d: d["classes"][2].update(violation="littering"), "classes[2].violation"),
        (lambda d: d["classes"][1].pop("name"), "classes[1].name"),
        (lambda d: d["classes"][3].update(event_code=202), "classes[3].event_code"),
        (lambda d: d["classes"].append(dict(d["classes"][0])), "classes[11].name"),
        (lambda d: d["event_codes"]["0101"].update(major="09"), "event_codes.0101.major"),
        (lambda d: d["major_classes"].update({1: {"zh": "x", "en": "x"}}), "major_classes.1"),
        (lambda d: d.pop("classes"), "classes"),
        (lambda d: d["classes"][0].update(violation="context"), "classes[0].event_code"),
    ],
)
def test_errors_name_the_file_and_field(tmp_path: Path, mutate: Callable[[dict[str, Any]], object], field: str) -> None:
    path = _write(tmp_path, mutate)
    with pytest.raises(TaxonomyError) as caught:
        load_taxonomy(path)
    assert caught.value.field == field
    assert str(path) in str(caught.value)


def test_unquoted_code_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    text = DEFAULT_TAXONOMY_PATH.read_text(encoding="utf-8").replace('event_code: "0501"', "event_code: 0501")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TaxonomyError, match="quote codes"):
        load_taxonomy(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match="cannot read"):
        load_taxonomy(tmp_path / "nope.yaml")
