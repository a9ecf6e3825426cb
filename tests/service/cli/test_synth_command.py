"""``xiuhua synth scenes`` and ``xiuhua synth preview`` end to end, tiny."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
import yaml
from typer.testing import CliRunner

from service.cli.main import app
from vision.synth.classes import CLASS_NAMES

CLI = "from service.cli.main import app; app()"  # xiuhua in a child process
ONE_CPU = "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})"  # as on a machine with one core


def test_scenes_writes_a_yolo_dataset(tmp_path: Path) -> None:
    out = tmp_path / "synth"
    result = CliRunner().invoke(app, ["synth", "scenes", "--seed", "2", "--count", "3", "--size", "320x180",
                                      "--out", str(out), "--val-fraction", "0.34"])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = yaml.safe_load((out / "data.yaml").read_text())
    assert data["names"] == dict(enumerate(CLASS_NAMES))
    assert len(list((out / "images" / "train").glob("*.jpg"))) == 2
    assert len(list((out / "images" / "val").glob("*.jpg"))) == 1
    assert len(list((out / "labels").rglob("*.txt"))) == 3
    assert "images/s" in result.output


def test_preview_writes_a_contact_sheet(tmp_path: Path) -> None:
    out = tmp_path / "sheet.png"
    result = CliRunner().invoke(app, ["synth", "preview", "--seed", "1", "--count", "2", "--size", "320x180",
                                      "--columns", "2", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    sheet = cv2.imread(str(out))
    assert sheet is not None and sheet.shape[1] >= 2 * 320


def test_bad_size_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["synth", "scenes", "--out", str(tmp_path), "--count", "1", "--size", "big"])
    assert result.exit_code != 0
    assert "960x540" in result.output


def test_pairs_writes_pair_folders(tmp_path: Path) -> None:
    out = tmp_path / "pairs"
    result = CliRunner().invoke(app, ["synth", "pairs", "--seed", "3", "--count", "2", "--size", "320x180",
                                      "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    folders = sorted(p for p in out.iterdir() if p.is_dir())
    assert [p.name for p in folders] == ["pair_000000", "pair_000001"]
    for folder in folders:
        assert {p.name for p in folder.iterdir()} == {"reference.jpg", "current.jpg", "truth.json"}


def test_patrol_and_fixed_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["synth", "patrol", "--seed", "1", "--passes", "1", "--fps", "0.5", "--size", "320x180",
                                 "--out", str(tmp_path / "patrol")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert {"pass_1.mp4", "pass_1.gpx", "pass_1_frames.jsonl", "truth.json"} <= {
        p.name for p in (tmp_path / "patrol").iterdir()
    }
    fixed = ["synth", "fixed", "--seed", "1", "--minutes", "0.2", "--fps", "0.5", "--size", "320x180"]
    result = runner.invoke(app, [*fixed, "--out", str(tmp_path / "fixed")])
    assert result.exit_code == 0, result.output
    assert {"clip.mp4", "frames.jsonl", "truth.json"} == {p.name for p in (tmp_path / "fixed").iterdir()}


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="pins one run to one CPU (Linux)")
@pytest.mark.parametrize(
    "command",
    [
        ["patrol", "--seed", "10", "--passes", "1", "--fps", "2"],
        ["fixed", "--seed", "2", "--minutes", "0.2", "--fps", "2"],
    ],
)
def test_a_seed_gives_the_same_bytes_in_every_process(tmp_path: Path, command: list[str]) -> None:
    # Issue #3. The two runs differ in what fresh heap memory holds (glibc's MALLOC_PERTURB_: x264's AVX-512 code
    # read it) and in how many CPUs they may use (x264 cut each frame into one slice per thread, one per CPU).
    runs = [("85", CLI), ("170", f"{ONE_CPU}; {CLI}")]
    outputs = []
    for run, (perturb, launcher) in enumerate(runs):
        out = tmp_path / f"run{run}"
        subprocess.run(
            [sys.executable, "-c", launcher, "synth", *command, "--size", "320x180", "--out", str(out)],
            env={**os.environ, "MALLOC_PERTURB_": perturb},
            check=True,
            capture_output=True,
        )
        outputs.append({path.name: path.read_bytes() for path in sorted(out.iterdir())})
    assert outputs[0].keys() == outputs[1].keys()
    differing = [name for name in outputs[0] if outputs[0][name] != outputs[1][name]]
    assert not differing
