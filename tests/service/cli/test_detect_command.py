"""``xiuhua detect`` end to end with a real (random-weights) model on every runtime path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from factories.media import CAR_VIDEO, make_video, truncate_copy
from typer.testing import CliRunner

from service.cli.main import app

runner = CliRunner()


def detect(*args: str) -> Any:
    return runner.invoke(app, ["detect", *args])


def records(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_jsonl_fields_and_annotations(random_model: Any, tmp_path: Path) -> None:
    video = make_video(tmp_path / "clip.mp4", frames=8, fps=4)
    out = tmp_path / "det.jsonl"
    result = detect(
        str(video), "--model", str(random_model.folder), "--conf", "0.01", "-o", str(out), "--annotate", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    lines = records(out.read_text())
    assert lines, "the random model at conf 0.01 should find something"
    assert {tuple(sorted(r)) for r in lines} == {("box", "class", "confidence", "frame_index", "source", "timestamp")}
    assert all(r["confidence"] >= 0.01 for r in lines)
    assert {r["timestamp"] for r in lines} <= {i / 4 for i in range(8)}
    assert any((tmp_path / "clip").glob("*.jpg"))


def test_bad_files_are_named_and_good_ones_still_processed(random_model: Any, tmp_path: Path) -> None:
    bad = tmp_path / "broken.avi"
    bad.write_bytes(b"\x00" * 1000)
    good = make_video(tmp_path / "good.mkv", frames=3, fps=3)
    result = detect(str(bad), str(tmp_path / "missing.mp4"), str(good), "--model", str(random_model.onnx))
    assert result.exit_code == 1
    assert "broken.avi" in result.output
    assert "missing.mp4" in result.output
    assert "2 failed" in result.output
    assert "1 of 3 sources read" in result.output


@pytest.mark.parametrize("model", ["nothing/here.onnx", "README.md"])
def test_missing_or_wrong_model_is_one_clear_line(model: str) -> None:
    result = detect(str(CAR_VIDEO), "--model", model)
    assert result.exit_code == 2
    assert model in result.output
    assert "Traceback" not in result.output


def test_bad_sampling_option_is_rejected(random_model: Any) -> None:
    result = detect(str(CAR_VIDEO), "--model", str(random_model.onnx), "--sample", "often")
    assert result.exit_code != 0
    assert "--sample" in result.output


@pytest.mark.slow
@pytest.mark.skipif(not CAR_VIDEO.exists(), reason="needs ../shared/data")
def test_real_video_timestamps_keyframes_and_truncation(random_model: Any, tmp_path: Path) -> None:
    model = str(random_model.openvino)
    full = detect(str(CAR_VIDEO), "--model", model, "--conf", "0.01", "--batch", "8")
    assert full.exit_code == 0, full.output
    stamps = sorted({r["timestamp"] for r in records(full.output)})
    assert stamps[0] == pytest.approx(0.0, abs=0.1)
    assert stamps[-1] == pytest.approx(30.1, abs=0.2)

    keyframes = detect(str(CAR_VIDEO), "--model", model, "--conf", "0.01", "--sample", "keyframes")
    key_stamps = sorted({r["timestamp"] for r in records(keyframes.output)})
    assert 2 <= len(key_stamps) <= 10
    assert set(key_stamps) <= set(stamps)

    half = truncate_copy(CAR_VIDEO, tmp_path / "half.mp4")
    cut = detect(str(half), "--model", model, "--conf", "0.01")
    assert cut.exit_code == 1
    assert "half.mp4" in cut.output
    cut_stamps = {r["timestamp"] for r in records(cut.output)}
    assert cut_stamps and max(cut_stamps) < 20.0
