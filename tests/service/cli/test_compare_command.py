"""``xiuhua compare`` and ``xiuhua compare-eval`` through the real Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from factories.change_pairs import Light, View, make_pair, write_pair
from typer.testing import CliRunner

from service.cli.main import app
from vision.detect.base import ModelInfo
from vision.detections import Detections

runner = CliRunner()


@pytest.fixture(scope="module")
def pair_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pair = make_pair(71, new=1, gone=1, view=View(shift=(0.02, 0.01), rotation=1.0), style="shed")
    return write_pair(pair, tmp_path_factory.mktemp("pair"))


def test_json_prints_exactly_one_object(pair_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "evidence.jpg"
    result = runner.invoke(
        app, ["compare", str(pair_dir / "reference.jpg"), str(pair_dir / "current.jpg"), "--json", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    payload = json.loads(lines[0])
    assert set(payload) == {"aligned", "regions"}
    assert payload["aligned"] is True
    assert sorted(region["kind"] for region in payload["regions"]) == ["gone", "new"]
    for region in payload["regions"]:
        assert set(region) == {"box", "kind", "label", "score"}
        assert len(region["box"]) == 4 and all(isinstance(v, int) for v in region["box"])
        assert region["label"] is None and 0.0 <= region["score"] <= 1.0
    evidence = cv2.imread(str(out))
    assert evidence is not None and evidence.shape[1] > 3 * 600  # three panels side by side


def test_human_output_lists_regions(pair_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "e.png"
    result = runner.invoke(
        app, ["compare", str(pair_dir / "reference.jpg"), str(pair_dir / "current.jpg"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "2 changed region" in result.stdout and "new unexplained" in result.stdout
    assert out.is_file()


def test_ignore_mask_file_is_applied(pair_dir: Path, tmp_path: Path) -> None:
    truth = json.loads((pair_dir / "truth.json").read_text())
    new_box = next(region["box"] for region in truth["regions"] if region["kind"] == "new")
    x1, y1, x2, y2 = new_box
    polygons = {"polygons": [[[x1 - 10, y1 - 10], [x2 + 10, y1 - 10], [x2 + 10, y2 + 10], [x1 - 10, y2 + 10]]]}
    mask = tmp_path / "mask.json"
    mask.write_text(json.dumps(polygons))
    result = runner.invoke(
        app,
        [
            "compare",
            str(pair_dir / "reference.jpg"),
            str(pair_dir / "current.jpg"),
            "--json",
            "--ignore-mask",
            str(mask),
            "--out",
            str(tmp_path / "e.jpg"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert [region["kind"] for region in json.loads(result.stdout)["regions"]] == ["gone"]


def test_missing_file_is_one_error_line(pair_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nope.jpg"
    result = runner.invoke(app, ["compare", str(pair_dir / "reference.jpg"), str(missing), "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [f"error: {missing}: no such file"]


def test_not_an_image_is_one_error_line(pair_dir: Path, tmp_path: Path) -> None:
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture")
    result = runner.invoke(app, ["compare", str(text), str(pair_dir / "current.jpg")])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {text}: not a readable image"


def test_mismatched_images_are_refused(pair_dir: Path, tmp_path: Path) -> None:
    narrow = tmp_path / "narrow.png"
    cv2.imwrite(str(narrow), np.zeros((400, 100, 3), np.uint8))
    result = runner.invoke(app, ["compare", str(pair_dir / "reference.jpg"), str(narrow), "--json"])
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "\n" not in line and str(narrow) in line and "aspect" in line


def test_unalignable_pair_is_reported_not_guessed(pair_dir: Path, tmp_path: Path) -> None:
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((360, 640, 3), 90, np.uint8))
    result = runner.invoke(
        app, ["compare", str(pair_dir / "reference.jpg"), str(blank), "--json", "--out", str(tmp_path / "e.jpg")]
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"aligned": False, "regions": []}
    assert result.stderr.startswith("not aligned: ")


def test_compare_eval_scores_a_folder_of_pairs(tmp_path: Path) -> None:
    write_pair(make_pair(72, new=1, style="board"), tmp_path / "pairs" / "a")
    write_pair(make_pair(73, gone=1, view=View(rotation=2.0), style="shed"), tmp_path / "pairs" / "b")
    write_pair(make_pair(74, light=Light(gain=0.7)), tmp_path / "pairs" / "c", kind="light_only")
    write_pair(make_pair(75, people=2), tmp_path / "pairs" / "d", kind="passers_only")
    result = runner.invoke(app, ["compare-eval", "--pairs", str(tmp_path / "pairs"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["pairs"] == 4 and report["negatives"] == 2
    assert report["per_kind"]["new"]["f1"] == 1.0 and report["per_kind"]["gone"]["f1"] == 1.0
    assert report["false_regions_per_negative"] == 0.0
    assert report["aligned_rate"] == 1.0


def test_compare_eval_without_pairs_fails(tmp_path: Path) -> None:
    result = runner.invoke(app, ["compare-eval", "--pairs", str(tmp_path)])
    assert result.exit_code == 2
    assert "no pairs found" in result.stderr


class BoxDetector:
    """Fake detector: finds one 'shed' at a fixed box, in the current image only (the second of the batch)."""

    def __init__(self, box: list[int]) -> None:
        self.box = box
        self.info = ModelInfo(path=Path("fake"), runtime="fake", names=("person", "shed"), imgsz=(64, 64))

    def detect(self, images: list[np.ndarray], conf: float | None = None) -> list[Detections]:
        found = Detections(np.array([self.box], np.float32), np.array([0.8], np.float32), np.array([1], np.int64))
        return [Detections.empty(), found][: len(images)]


def test_model_labels_regions(pair_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import vision.detect

    truth = json.loads((pair_dir / "truth.json").read_text())
    new_box = next(region["box"] for region in truth["regions"] if region["kind"] == "new")
    monkeypatch.setattr(vision.detect, "load_detector", lambda model: BoxDetector(new_box))
    result = runner.invoke(
        app,
        [
            "compare",
            str(pair_dir / "reference.jpg"),
            str(pair_dir / "current.jpg"),
            "--json",
            "--model",
            "fake",
            "--out",
            str(tmp_path / "e.jpg"),
        ],
    )
    assert result.exit_code == 0, result.output
    labels = {region["kind"]: region["label"] for region in json.loads(result.stdout)["regions"]}
    assert labels == {"new": "shed", "gone": None}


def test_missing_model_is_one_error_line(pair_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-model.onnx"
    result = runner.invoke(
        app, ["compare", str(pair_dir / "reference.jpg"), str(pair_dir / "current.jpg"), "--model", str(missing)]
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {missing}: no such model file or folder"


def test_missing_region_scorer_is_one_error_line(pair_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-scorer.npz"
    result = runner.invoke(
        app, ["compare", str(pair_dir / "reference.jpg"), str(pair_dir / "current.jpg"), "--scorer", str(missing)]
    )
    assert result.exit_code == 2
    assert result.stderr.strip().startswith(f"error: {missing}: no such region scorer")


def test_compare_train_writes_a_scorer_that_compare_eval_reads(tmp_path: Path) -> None:
    write_pair(make_pair(76, new=1, style="board"), tmp_path / "pairs" / "a")
    write_pair(make_pair(77, gone=1, people=1, style="shed"), tmp_path / "pairs" / "b")
    scorer, cache = tmp_path / "scorer.npz", tmp_path / "cache.npz"
    train = ["compare-train", "--pairs", str(tmp_path / "pairs"), "--out", str(scorer), "--cache", str(cache)]
    result = runner.invoke(app, [*train, "--epochs", "2", "--members", "1", "--hidden", "4"])
    assert result.exit_code == 0, result.output
    assert scorer.is_file() and cache.is_file()
    again = runner.invoke(app, [*train, "--epochs", "1", "--members", "1", "--hidden", "4"])  # from the cache
    assert again.exit_code == 0, again.output
    for choice in (["--scorer", str(scorer)], ["--classical"]):
        evaluated = runner.invoke(app, ["compare-eval", "--pairs", str(tmp_path / "pairs"), "--json", *choice])
        assert evaluated.exit_code == 0, evaluated.output
        assert json.loads(evaluated.stdout)["pairs"] == 2
