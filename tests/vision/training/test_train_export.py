"""Tiny real ultralytics runs: training offline, resuming, fine-tuning on other classes, exporting.

One shared 1-epoch run at 64 px on a handful of generated images (about 10 s); the resume test trains its own.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from factories.training import FakeDetector, ImageSpec, detections, make_dataset

from vision.errors import ModelError, VisionError
from vision.training.card import load_card

pytest.importorskip("ultralytics")

from vision.training.train import TrainResult, TrainSettings, train

SCENE = [
    ImageSpec([(0, (8, 8, 40, 30)), (1, (50, 20, 90, 60))]),
    ImageSpec([(1, (10, 30, 40, 60))]),
    ImageSpec([(0, (60, 5, 92, 40))]),
]


@pytest.fixture(scope="module")
def no_network() -> Iterator[list[Any]]:
    """Refuse (and record) every DNS lookup and connection while the module's tests run."""
    attempts: list[Any] = []
    real_connect, real_lookup = socket.socket.connect, socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        attempts.append(("connect", address))
        raise OSError("network disabled in this test")

    def lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        attempts.append(("getaddrinfo", host))
        raise OSError("network disabled in this test")

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = lookup
    yield attempts
    socket.socket.connect = real_connect  # type: ignore[method-assign]
    socket.getaddrinfo = real_lookup


def _settings(data: Path, project: Path, name: str, **changes: Any) -> TrainSettings:
    base: dict[str, Any] = {"epochs": 1, "imgsz": 64, "batch": 2, "workers": 0, "cache": None, "evaluate": False}
    return TrainSettings(data=data, name=name, project=project, **{**base, **changes})


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, no_network: list[Any]) -> TrainResult:
    root = tmp_path_factory.mktemp("train")
    data = make_dataset(root / "ds", ["cat", "dog"], {"train": SCENE * 2, "val": SCENE})
    # A model-free stand-in for the detector backends, so the end-of-training evaluation path runs too.
    fake = FakeDetector(("cat", "dog"), {6: detections([(0, 0.9, (8, 8, 40, 30))])})
    with pytest.MonkeyPatch.context() as patch:
        import vision.detect

        patch.setattr(vision.detect, "load_detector", lambda *a, **k: fake, raising=False)
        return train(_settings(data, root / "runs", "tiny", evaluate=True, source="synthetic"))


def test_training_writes_weights_and_card_without_network(run: TrainResult, no_network: list[Any]) -> None:
    assert run.best.is_file() and run.last.is_file()
    assert run.epochs_completed == 1
    assert no_network == []
    card = load_card(run.card)
    assert card.classes == ("cat", "dog")
    assert card.imgsz == (64, 64)
    assert "parameters" in card.architecture
    (stage,) = card.training["stages"]
    assert stage["epochs_completed"] == 1 and stage["finished"]
    assert stage["data"]["images"] == {"train": 6, "val": 3}
    assert card.training["seed"] == 0
    assert (run.run_dir / "README.md").read_text(encoding="utf-8").startswith("# tiny")


def test_training_records_its_val_evaluation(run: TrainResult) -> None:
    entry = load_card(run.card).metrics["ds-val"]
    assert entry["source"] == "synthetic"
    assert entry["trained_on"] is False
    assert entry["used_for_selection"] is True
    assert set(entry["classes"]) == {"cat", "dog"}
    assert entry["command"].startswith("xiuhua evaluate --model ")


def test_existing_run_is_not_overwritten(run: TrainResult) -> None:
    data = run.run_dir / "data.yaml"
    with pytest.raises(VisionError, match="exists; pass resume"):
        train(_settings(data, run.run_dir.parent, "tiny"))


def test_finished_run_cannot_be_resumed(run: TrainResult) -> None:
    with pytest.raises(VisionError, match="this run finished"):
        train(_settings(Path(), run.run_dir.parent, "tiny", resume=True))


def test_missing_checkpoint_is_never_downloaded(tmp_path: Path, no_network: list[Any]) -> None:
    data = make_dataset(tmp_path / "ds", ["cat"], {"train": SCENE[2:], "val": SCENE[2:]})
    with pytest.raises(ModelError, match="nothing is downloaded"):
        train(_settings(data, tmp_path / "runs", "x", model="yolo26n.pt"))
    assert no_network == []


def test_fine_tuning_on_other_classes(run: TrainResult, tmp_path: Path, no_network: list[Any]) -> None:
    names = ["window", "cantilever", "signboard"]
    scene = [ImageSpec([(1, (8, 8, 40, 30)), (2, (50, 20, 90, 60))]), ImageSpec([(0, (10, 30, 40, 60))])]
    data = make_dataset(tmp_path / "facade", names, {"train": scene * 2, "val": scene})
    continuing = {"warmup_epochs": 0.5, "warmup_bias_lr": 0.0, "close_mosaic": 1}
    result = train(_settings(data, tmp_path / "runs", "tuned", model=str(run.best), **continuing))
    used = yaml.safe_load((result.run_dir / "args.yaml").read_text(encoding="utf-8"))
    assert {key: used[key] for key in continuing} == continuing
    card = load_card(result.card)
    assert card.classes == tuple(names)
    first, second = card.training["stages"]
    assert first["run"] == str(run.run_dir) and first["model"] == "yolo26n.yaml"
    assert second["model"] == str(run.best)
    assert [d["yaml"] for d in card.training["data"]] == [first["data"]["yaml"], second["data"]["yaml"]]
    assert no_network == []

    from vision.training.ultralytics_env import torch_load

    names_in_weights = torch_load(result.best)["model"].names
    assert list(names_in_weights.values()) == names


def test_interrupted_run_resumes_to_the_end(tmp_path: Path, no_network: list[Any]) -> None:
    data = make_dataset(tmp_path / "ds", ["cat", "dog"], {"train": SCENE, "val": SCENE[:1]})
    settings = _settings(data, tmp_path / "runs", "cut", epochs=2)

    class Interrupted(Exception):
        pass

    def stop_after_first_epoch(trainer: Any) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        train(settings, callbacks={"on_model_save": stop_after_first_epoch})
    card = load_card(tmp_path / "runs" / "cut" / "card.yaml")
    assert card.training["stages"][0]["epochs_completed"] == 1
    assert card.training["stages"][0]["finished"] is None

    result = train(_settings(Path(), tmp_path / "runs", "cut", resume=True))
    assert result.epochs_completed == 2
    stage = load_card(result.card).training["stages"][0]
    assert stage["epochs_completed"] == 2 and stage["finished"]
    assert no_network == []


def test_export_writes_runtimes_and_card(run: TrainResult, tmp_path: Path, no_network: list[Any]) -> None:
    from vision.training.export import export_model

    out = tmp_path / "models" / "tiny-v1"
    result = export_model(run.best, out, imgsz=64, default_conf=0.3)
    assert result.pytorch == out / "tiny-v1.pt"
    assert (out / "tiny-v1.onnx").is_file()
    assert (out / "tiny-v1_openvino_model" / "tiny-v1.xml").is_file()
    assert result.openvino_precision == "fp16"
    card = load_card(out / "card.yaml")
    assert card.name == "tiny-v1"
    assert card.default_conf == 0.3
    assert card.files["onnx"] == "tiny-v1.onnx"
    assert "ds-val" in card.metrics  # carried over from the training run's card
    assert any(note.startswith("OpenVINO weights: FP16") for note in card.notes)
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "| 0 | cat |" in readme

    from vision.training.ultralytics_env import torch_load

    slim = torch_load(result.pytorch)
    assert slim["optimizer"] is None
    assert next(slim["model"].parameters()).dtype.is_floating_point
    assert str(next(slim["model"].parameters()).dtype) == "torch.float16"

    onnxruntime = pytest.importorskip("onnxruntime")
    session = onnxruntime.InferenceSession(str(result.onnx), providers=["CPUExecutionProvider"])
    (output,) = session.run(None, {session.get_inputs()[0].name: np.zeros((1, 3, 64, 64), np.float32)})
    assert output.shape[0] == 1 and output.shape[2] == 6  # NMS-free head: x1 y1 x2 y2 score class
    openvino = pytest.importorskip("openvino")
    ir = openvino.Core().read_model(str(result.openvino / "tiny-v1.xml"))
    assert ir.input(0).get_partial_shape()[2].is_dynamic  # any input size: rectangular letterboxing
    assert no_network == []
    assert os.environ.get("YOLO_OFFLINE") == "1"


def test_export_checks_openvino_fp16_against_data(run: TrainResult, tmp_path: Path) -> None:
    import vision.detect

    if not hasattr(vision.detect, "load_detector"):
        pytest.skip("no detector backends in this checkout")
    from vision.training.export import export_model

    data = run.run_dir / "data.yaml"
    result = export_model(run.best, tmp_path / "checked", imgsz=64, check_data=data)
    assert result.fp16_check is not None
    assert set(result.fp16_check) == {"onnx_fp32", "openvino_fp16"}
    drop = result.fp16_check["onnx_fp32"] - result.fp16_check["openvino_fp16"]
    assert result.openvino_precision == ("fp16" if drop <= 0.005 else "fp32")
    card = load_card(result.card)
    assert any("ONNX FP32" in note for note in card.notes)
    entry = card.metrics["ds-val"]  # the shipped OpenVINO model's numbers replace best.pt's
    assert entry["model"] == str(result.openvino)
    assert entry["used_for_selection"] is True
    assert entry["map50_95"] == pytest.approx(result.fp16_check["openvino_fp16"], abs=1e-4)


def test_a_synth_manifest_marks_data_synthetic(tmp_path: Path) -> None:
    from vision.training.dataset import load_data_yaml
    from vision.training.train import data_description, data_source

    data = make_dataset(tmp_path, ["cat"], {"train": SCENE[2:], "val": SCENE[2:]})
    assert data_source(load_data_yaml(data)) == "real"
    (tmp_path / "synth.json").write_text('{"generator": "xiuhua synth scenes", "generator_version": 3, "seed": 7}')
    spec = load_data_yaml(data)
    assert data_source(spec) == "synthetic"
    described = data_description(spec)
    assert described["seed"] == 7 and described["kind"] == "synthetic"
    assert described["generator"] == "xiuhua synth scenes 3"


def test_a_declared_mix_is_described_as_mixed(tmp_path: Path) -> None:
    from vision.training.dataset import load_data_yaml
    from vision.training.train import data_description

    data = make_dataset(tmp_path, ["cat"], {"train": SCENE[2:], "val": SCENE[2:]})
    with data.open("a", encoding="utf-8") as handle:
        handle.write("kind: mixed\nsource: synthetic street scenes + real facade photos\n")
    described = data_description(load_data_yaml(data))
    assert described["kind"] == "mixed"
    assert described["source"] == "synthetic street scenes + real facade photos"


def test_export_from_a_mid_run_checkpoint(run: TrainResult, tmp_path: Path, no_network: list[Any]) -> None:
    # ultralytics saves last.pt during a run with model=None and the weights in "ema" only.
    import torch

    from vision.training.export import export_model
    from vision.training.ultralytics_env import torch_load

    checkpoint = torch_load(run.best)
    checkpoint["ema"], checkpoint["model"] = checkpoint["model"], None
    mid_run = tmp_path / "last.pt"
    torch.save(checkpoint, mid_run)
    out = tmp_path / "models" / "mid"
    export_model(mid_run, out, imgsz=64)
    assert load_card(out / "card.yaml").classes == run_classes(run)
    assert (out / "mid.onnx").is_file()


def run_classes(run: TrainResult) -> tuple[str, ...]:
    return load_card(run.card).classes


def test_export_of_a_continuing_stage_keeps_the_notes_not_the_metrics(
    run: TrainResult, tmp_path: Path, no_network: list[Any]
) -> None:
    import shutil

    from vision.training.card import write_card
    from vision.training.export import export_model

    out = tmp_path / "models" / "tiny-v1"
    export_model(run.best, out, imgsz=64)
    shipped = load_card(out / "card.yaml")
    write_card(shipped.with_note("Stage 1: how it was trained."), out / "card.yaml")
    # A later stage trained from the shipped weights: its run card lists the shipped stages, then its own.
    later = tmp_path / "runs" / "later"
    (later / "weights").mkdir(parents=True)
    shutil.copy(run.best, later / "weights" / "last.pt")
    stages = [*shipped.training["stages"], {"run": str(later), "model": str(out / "tiny-v1.pt"), "epochs": 1}]
    write_card(
        dataclasses.replace(shipped, metrics={}, training={**shipped.training, "stages": stages}), later / "card.yaml"
    )
    export_model(later / "weights" / "last.pt", out, imgsz=64)
    card = load_card(out / "card.yaml")
    assert "Stage 1: how it was trained." in card.notes
    assert "ds-val" not in card.metrics  # measured on the earlier weights
    assert sum(note.startswith("OpenVINO weights:") for note in card.notes) == 1

    # Another training (stages that do not begin with the shipped ones) starts a fresh history.
    other = tmp_path / "runs" / "other"
    (other / "weights").mkdir(parents=True)
    shutil.copy(run.best, other / "weights" / "last.pt")
    fresh = [{"run": str(other), "model": "yolo26n.yaml", "epochs": 1}]
    write_card(dataclasses.replace(shipped, training={**shipped.training, "stages": fresh}), other / "card.yaml")
    export_model(other / "weights" / "last.pt", out, imgsz=64)
    assert "Stage 1: how it was trained." not in load_card(out / "card.yaml").notes
