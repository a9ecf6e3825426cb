"""Choosing a backend from a path, and the errors for paths that hold no usable model."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from vision.detect import OnnxDetector, OpenVinoDetector, UltralyticsDetector, find_model_files, load_detector
from vision.detect.random_model import CLASS_NAMES
from vision.errors import ModelError


def copy_model(random_model: Any, destination: Path, *, without: tuple[str, ...] = ()) -> Path:
    """A copy of the random model folder, renamed to ``destination``'s name, leaving out some runtimes' files."""
    name = destination.name
    destination.mkdir(parents=True)
    source = random_model.folder
    stem = random_model.pytorch.stem
    shutil.copy(source / "card.yaml", destination / "card.yaml")
    if "ultralytics" not in without:
        shutil.copy(random_model.pytorch, destination / f"{name}.pt")
    if "onnxruntime" not in without:
        shutil.copy(random_model.onnx, destination / f"{name}.onnx")
    if "openvino" not in without:
        ir = destination / f"{name}_openvino_model"
        shutil.copytree(random_model.openvino, ir)
        for file in ir.glob(f"{stem}.*"):
            file.rename(ir / f"{name}{file.suffix}")
    return destination


def test_model_folder_prefers_openvino_then_onnx_then_pytorch(random_model: Any, tmp_path: Path) -> None:
    full = load_detector(random_model.folder, threads=1)
    no_openvino = load_detector(copy_model(random_model, tmp_path / "a", without=("openvino",)), threads=1)
    pytorch_only = load_detector(
        copy_model(random_model, tmp_path / "b", without=("openvino", "onnxruntime")), threads=1
    )

    assert isinstance(full, OpenVinoDetector)
    assert isinstance(no_openvino, OnnxDetector)
    assert isinstance(pytorch_only, UltralyticsDetector)


def test_a_runtime_that_is_not_installed_is_skipped(random_model: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openvino", None)  # import openvino now fails

    assert isinstance(load_detector(random_model.folder, threads=1), OnnxDetector)


@pytest.mark.parametrize(
    ("runtime", "kind"),
    [("openvino", OpenVinoDetector), ("onnxruntime", OnnxDetector), ("ultralytics", UltralyticsDetector)],
)
def test_runtime_override_and_card_threshold(random_model: Any, tmp_path: Path, runtime: str, kind: type) -> None:
    folder = copy_model(random_model, tmp_path / "xiuhua-test")
    card = yaml.safe_load((folder / "card.yaml").read_text())
    (folder / "card.yaml").write_text(yaml.safe_dump({**card, "default_conf": 0.4}))

    detector = load_detector(folder, runtime=runtime, threads=1)
    overridden = load_detector(folder, runtime=runtime, threads=1, conf=0.6)

    assert isinstance(detector, kind)
    assert detector.info.path.name.startswith("xiuhua-test")
    assert detector.info.names == CLASS_NAMES
    assert detector.info.default_conf == 0.4
    assert overridden.info.default_conf == 0.6


@pytest.mark.parametrize(
    ("attribute", "kind"), [("pytorch", UltralyticsDetector), ("onnx", OnnxDetector), ("openvino", OpenVinoDetector)]
)
def test_a_file_or_ir_folder_picks_its_own_runtime(random_model: Any, attribute: str, kind: type) -> None:
    assert isinstance(load_detector(getattr(random_model, attribute), threads=1), kind)


def test_an_openvino_xml_file_loads(random_model: Any) -> None:
    xml = next(random_model.openvino.glob("*.xml"))

    assert isinstance(load_detector(xml, threads=1), OpenVinoDetector)


def test_find_model_files_lists_what_is_present(random_model: Any, tmp_path: Path) -> None:
    files = find_model_files(copy_model(random_model, tmp_path / "m", without=("onnxruntime",)))

    assert files.present == ["openvino", "ultralytics"]
    assert files.onnxruntime is None
    assert files.ultralytics == tmp_path / "m" / "m.pt"


def test_missing_path_raises_model_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.onnx"

    with pytest.raises(ModelError, match="no such model file") as caught:
        load_detector(missing)
    assert caught.value.model == str(missing)


def test_unknown_format_raises_model_error(tmp_path: Path) -> None:
    weights = tmp_path / "weights.txt"
    weights.write_text("hello")

    with pytest.raises(ModelError, match=r"unknown model format '\.txt'"):
        load_detector(weights)


@pytest.mark.parametrize("suffix", [".onnx", ".pt"])
def test_corrupt_file_raises_model_error(tmp_path: Path, suffix: str) -> None:
    weights = tmp_path / f"broken{suffix}"
    weights.write_bytes(b"\x00\x01 definitely not a model " * 20)

    with pytest.raises(ModelError, match="cannot load") as caught:
        load_detector(weights)
    assert str(weights) in str(caught.value)


def test_corrupt_openvino_folder_raises_model_error(random_model: Any, tmp_path: Path) -> None:
    ir = shutil.copytree(random_model.openvino, tmp_path / "broken_openvino_model")
    next(Path(ir).glob("*.xml")).write_text("<net>truncated")

    with pytest.raises(ModelError, match="cannot load as an OpenVINO model"):
        load_detector(ir)


def test_folder_without_weights_raises_model_error(tmp_path: Path) -> None:
    (tmp_path / "card.yaml").write_text("name: x\n")

    with pytest.raises(ModelError, match="not a model folder"):
        load_detector(tmp_path)


def test_forced_runtime_that_cannot_load_the_path(random_model: Any, tmp_path: Path) -> None:
    folder = copy_model(random_model, tmp_path / "m", without=("onnxruntime",))

    with pytest.raises(ModelError, match="no onnxruntime model here"):
        load_detector(folder, runtime="onnxruntime")
    with pytest.raises(ModelError, match="cannot load this model"):
        load_detector(random_model.onnx, runtime="openvino")
    with pytest.raises(ModelError, match="unknown runtime"):
        load_detector(folder, runtime="tensorrt")


@pytest.mark.parametrize(
    ("module", "extra", "attribute"),
    [("onnxruntime", "onnx", "onnx"), ("openvino", "openvino", "openvino"), ("ultralytics", "train", "pytorch")],
)
def test_missing_runtime_names_the_extra_to_install(
    random_model: Any, monkeypatch: pytest.MonkeyPatch, module: str, extra: str, attribute: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)

    with pytest.raises(ModelError, match=rf"pip install -e '\.\[{extra}\]'"):
        load_detector(getattr(random_model, attribute))


def test_model_folder_with_no_installed_runtime(random_model: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("onnxruntime", "openvino", "ultralytics"):
        monkeypatch.setitem(sys.modules, module, None)

    with pytest.raises(ModelError, match="no installed runtime"):
        load_detector(random_model.folder)


def test_card_names_that_disagree_with_the_model(random_model: Any, tmp_path: Path) -> None:
    folder = copy_model(random_model, tmp_path / "m")
    card = yaml.safe_load((folder / "card.yaml").read_text())
    (folder / "card.yaml").write_text(yaml.safe_dump({**card, "classes": list(reversed(CLASS_NAMES))}))

    for runtime in ("onnxruntime", "openvino", "ultralytics"):
        with pytest.raises(ModelError, match="differ"):
            load_detector(folder, runtime=runtime)


@pytest.mark.parametrize(
    ("attribute", "options", "message"),
    [
        ("onnx", {"device": "tpu"}, "unknown device"),
        ("openvino", {"device": "cuda"}, "CPU only"),
        ("onnx", {"threads": 0}, "threads"),
    ],
)
def test_bad_device_or_threads(random_model: Any, attribute: str, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ModelError, match=message):
        load_detector(getattr(random_model, attribute), **options)


def test_cuda_without_a_cuda_onnxruntime(random_model: Any) -> None:
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this onnxruntime has CUDA")
    with pytest.raises(ModelError, match="CUDAExecutionProvider"):
        OnnxDetector(random_model.onnx, device="cuda")
