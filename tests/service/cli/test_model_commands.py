"""``xiuhua evaluate`` / ``train`` / ``export`` through the CLI, with a scripted detector instead of a model."""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest
import yaml
from typer.testing import CliRunner

from service.cli.main import app
from vision.detect.base import ModelInfo
from vision.detections import Detections
from vision.training.card import ModelCard, load_card, write_card

BOXES = [(1, (10, 10, 40, 30)), (3, (50, 20, 90, 60))]  # facade ids: cantilever, signboard


class ScriptedDetector:
    """Finds the labelled boxes of every image, under our vocabulary's ids, plus one false positive."""

    def __init__(self) -> None:
        self.info = ModelInfo(Path("m.pt"), "fake", ("signboard", "cantilever"), (64, 64))

    def detect(self, images: Sequence[npt.NDArray[np.uint8]], conf: float | None = None) -> list[Detections]:
        found = Detections(
            xyxy=np.array([BOXES[0][1], BOXES[1][1], (60, 0, 70, 8)], np.float32),
            confidence=np.array([0.9, 0.8, 0.7], np.float32),
            class_id=np.array([1, 0, 0], np.int64),
        )
        return [found for _ in images]


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    for kind in ("images", "labels"):
        (tmp_path / kind / "val").mkdir(parents=True)
    for number in range(3):
        image = np.full((64, 96, 3), 80, np.uint8)
        cv2.imwrite(str(tmp_path / "images" / "val" / f"{number}.png"), image)
        lines = [
            f"{c} {(x1 + x2) / 192:.6f} {(y1 + y2) / 128:.6f} {(x2 - x1) / 96:.6f} {(y2 - y1) / 64:.6f}"
            for c, (x1, y1, x2, y2) in BOXES
        ]
        (tmp_path / "labels" / "val" / f"{number}.txt").write_text("\n".join(lines), encoding="utf-8")
    names = {0: "window", 1: "cantilever", 2: "arch", 3: "signboard", 4: "win_ad", 5: "door"}
    data = tmp_path / "data.yaml"
    data.write_text(yaml.safe_dump({"path": ".", "val": "images/val", "names": names}), encoding="utf-8")
    return data


@pytest.fixture
def loader(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    import vision.detect

    calls: list[dict[str, Any]] = []

    def load_detector(path: Path, **options: Any) -> ScriptedDetector:
        print("a runtime chatting on stdout")  # must not reach stdout in --json mode
        calls.append({"path": path, **options})
        return ScriptedDetector()

    monkeypatch.setattr(vision.detect, "load_detector", load_detector, raising=False)
    return calls


def test_json_is_exactly_one_object(dataset: Path, loader: list[dict[str, Any]]) -> None:
    result = CliRunner().invoke(app, ["evaluate", "--model", "m.pt", "--data", str(dataset), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) >= {"classes", "map50", "map50_95"}
    assert set(payload["classes"]) == {"cantilever", "signboard"}
    assert set(payload["classes"]["signboard"]) == {"precision", "recall", "ap50", "ap50_95", "instances"}
    assert payload["classes"]["cantilever"]["ap50"] == pytest.approx(1.0)
    assert payload["classes"]["signboard"]["instances"] == 3
    assert set(payload["not_evaluated"]) == {"window", "arch", "win_ad", "door"}
    assert "chatting" in result.stderr
    assert loader[0]["conf"] == 0.001 and loader[0]["device"] == "cpu"


def test_table(dataset: Path, loader: list[dict[str, Any]]) -> None:
    result = CliRunner().invoke(app, ["evaluate", "--model", "m.pt", "--data", str(dataset), "--split", "val"])
    assert result.exit_code == 0, result.output
    assert "AP50-95" in result.stdout
    assert "cantilever" in result.stdout
    assert "window                not evaluated: the model has no such class" in result.stdout


def test_evaluate_records_into_a_card(dataset: Path, loader: list[dict[str, Any]], tmp_path: Path) -> None:
    card_path = tmp_path / "models" / "m" / "card.yaml"
    write_card(ModelCard(name="m", classes=("signboard", "cantilever"), imgsz=(64, 64)), card_path)
    arguments = ["evaluate", "--model", "m.pt", "--data", str(dataset), "--json"]
    card_arguments = ["--card", str(card_path), "--split-name", "facade-val", "--source", "real"]
    result = CliRunner().invoke(app, arguments + card_arguments)
    assert result.exit_code == 0, result.output
    entry = load_card(card_path).metrics["facade-val"]
    assert entry["source"] == "real" and entry["trained_on"] is False
    assert entry["map50_95"] == pytest.approx(json.loads(result.stdout)["map50_95"], abs=1e-4)
    assert entry["command"].startswith("xiuhua evaluate --model m.pt")
    readme = (card_path.parent / "README.md").read_text(encoding="utf-8")
    assert "facade-val" in readme and "Reproduce: `xiuhua evaluate" in readme
    # Re-running the recorded command reproduces the recorded number.
    again = CliRunner().invoke(app, [*shlex.split(entry["command"])[1:], "--json"])
    assert json.loads(again.stdout)["map50_95"] == pytest.approx(entry["map50_95"], abs=1e-4)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["evaluate", "--model", "m.pt", "--data", "d.yaml", "--card", "c.yaml"], "--card needs --split-name"),
        (["train", "--name", "x"], "--data is required"),
        (["evaluate", "--model", "m.pt", "--data", "missing.yaml"], "cannot read data.yaml"),
    ],
)
def test_usage_errors(arguments: list[str], message: str, loader: list[dict[str, Any]]) -> None:
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 2
    assert message in result.stderr


def test_train_records_a_command_that_repeats_the_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import vision.training.train as training

    seen: list[Any] = []

    def fake_train(settings: Any) -> Any:
        seen.append(settings)
        return training.TrainResult(tmp_path, tmp_path / "best.pt", tmp_path / "last.pt", tmp_path / "card.yaml", 1)

    monkeypatch.setattr(training, "train", fake_train)
    words = ["train", "--name", "s4", "--data", "d.yaml", "--model", "m.pt", "--warmup-epochs", "0.5"]
    result = CliRunner().invoke(app, [*words, "--warmup-bias-lr", "0", "--close-mosaic", "2"])
    assert result.exit_code == 0, result.output
    (first,) = seen
    assert (first.warmup_epochs, first.warmup_bias_lr, first.close_mosaic) == (0.5, 0.0, 2)
    again = CliRunner().invoke(app, shlex.split(first.command)[1:])
    assert again.exit_code == 0, again.output
    assert seen[1] == first
