"""Reading model cards and ultralytics export metadata."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from vision.detect.metadata import CardInfo, parse_export_metadata, read_card, resolve_info
from vision.errors import ModelError

GOOD_CARD = {"name": "xiuhua-n", "classes": ["banner", "shed"], "imgsz": [640, 640], "default_conf": 0.3}


def write_card(folder: Path, **changes: Any) -> Path:
    data = {**GOOD_CARD, **changes}
    path = folder / "card.yaml"
    path.write_text(yaml.safe_dump({k: v for k, v in data.items() if v is not None}), encoding="utf-8")
    return path


def test_read_card_reads_the_inference_keys_and_ignores_the_rest(tmp_path: Path) -> None:
    path = write_card(tmp_path, metrics={"val": {"map50": 0.5}}, notes=["trained on facades"])

    card = read_card(path)

    assert card == CardInfo(path, "xiuhua-n", ("banner", "shed"), (640, 640), 0.3)


def test_default_conf_defaults_to_a_quarter(tmp_path: Path) -> None:
    assert read_card(write_card(tmp_path, default_conf=None)).default_conf == 0.25


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"name": ""}, "name"),
        ({"classes": []}, "classes"),
        ({"classes": "banner"}, "classes"),
        ({"imgsz": [640]}, "imgsz"),
        ({"imgsz": [640, -1]}, "imgsz"),
        ({"default_conf": 1.5}, "default_conf"),
        ({"default_conf": "high"}, "default_conf"),
    ],
)
def test_bad_card_keys_raise_model_error_naming_file_and_key(tmp_path: Path, changes: dict[str, Any], key: str) -> None:
    path = write_card(tmp_path, **changes)

    with pytest.raises(ModelError, match=key) as caught:
        read_card(path)
    assert caught.value.model == str(path)


def test_unreadable_card_raises_model_error(tmp_path: Path) -> None:
    path = tmp_path / "card.yaml"
    path.write_text("name: [unclosed", encoding="utf-8")

    with pytest.raises(ModelError, match="cannot read model card"):
        read_card(path)


def test_parses_onnx_style_string_metadata() -> None:
    raw = {
        "names": "{0: 'banner', 1: 'shed'}",
        "imgsz": "[320, 480]",
        "end2end": "True",
        "batch": "1",
        "args": "{'nms': False, 'dynamic': True}",
        "date": "2026-01-01T00:00:00",
    }

    metadata = parse_export_metadata(raw, "m.onnx")

    assert metadata.names == ("banner", "shed")
    assert metadata.imgsz == (320, 480)
    assert metadata.end2end is True
    assert metadata.batch == 1
    assert metadata.dynamic is True


def test_parses_yaml_metadata_and_tolerates_missing_keys() -> None:
    metadata = parse_export_metadata({"names": {0: "banner"}, "imgsz": [640, 640]}, "metadata.yaml")

    assert metadata.names == ("banner",)
    assert metadata.end2end is None and metadata.batch is None
    assert parse_export_metadata({}, "m.onnx").names is None


def test_malformed_metadata_names_raise_model_error() -> None:
    with pytest.raises(ModelError, match="names"):
        parse_export_metadata({"names": "{1: 'gap'}"}, "m.onnx")


def test_resolve_info_prefers_the_models_metadata_and_the_cards_threshold(tmp_path: Path) -> None:
    card = read_card(write_card(tmp_path))

    info = resolve_info(
        tmp_path / "m.onnx", "onnxruntime", names=("banner", "shed"), imgsz=(320, 320), card=card, conf=None
    )

    assert info.names == ("banner", "shed")
    assert info.imgsz == (320, 320)
    assert info.default_conf == 0.3
    overridden = resolve_info(tmp_path / "m.onnx", "onnxruntime", names=None, imgsz=None, card=card, conf=0.6)
    assert (overridden.names, overridden.imgsz, overridden.default_conf) == (("banner", "shed"), (640, 640), 0.6)


def test_resolve_info_rejects_names_that_disagree_with_the_card(tmp_path: Path) -> None:
    card = read_card(write_card(tmp_path))

    with pytest.raises(ModelError, match="differ"):
        resolve_info(tmp_path / "m.onnx", "onnxruntime", names=("shed", "banner"), imgsz=None, card=card, conf=None)


def test_resolve_info_without_names_or_size_raises(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no class names"):
        resolve_info(tmp_path / "m.onnx", "onnxruntime", names=None, imgsz=(640, 640), card=None, conf=None)
    with pytest.raises(ModelError, match="no input size"):
        resolve_info(tmp_path / "m.onnx", "onnxruntime", names=("a",), imgsz=None, card=None, conf=None)
    with pytest.raises(ModelError, match="conf"):
        resolve_info(tmp_path / "m.onnx", "onnxruntime", names=("a",), imgsz=(64, 64), card=None, conf=2.0)
