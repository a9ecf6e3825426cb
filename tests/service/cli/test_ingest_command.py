"""``xiuhua ingest``: exit codes, problems on stderr with line numbers, the summary, re-runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from factories.database import BACKENDS, temporary_database
from factories.detection_stream import make_stream
from typer.testing import CliRunner

from service.cli import candidates, ingest

runner = CliRunner()


def make_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Commands under test."""

    ingest.register(app)
    candidates.register(app)
    return app


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GOOD = json.dumps(
    {
        "source": "city-ai-7",
        "camera": None,
        "time": "2026-05-01T20:31:07+08:00",
        "lat": 30.2741,
        "lon": 120.1551,
        "class": "vendor_stall",
        "confidence": 0.8,
        "box": None,
        "track_id": None,
        "image": None,
    }
)


@pytest.mark.parametrize("backend", BACKENDS)
def test_ingest_then_list(backend: str, tmp_path: Path) -> None:
    file = write_lines(tmp_path / "detections.jsonl", make_stream(6, 5, seed=3))
    with temporary_database(backend, tmp_path) as url:
        result = runner.invoke(make_app(), ["ingest", str(file), "--database", url])
        assert result.exit_code == 0, result.output
        assert (
            "30 lines read, 0 bad, 30 observations: 30 new sightings (0 dropped), 6 candidates opened" in result.stdout
        )
        assert result.stderr == ""
        listed = runner.invoke(make_app(), ["candidates", "--json", "--database", url])
        assert listed.exit_code == 0, listed.output
        again = runner.invoke(make_app(), ["ingest", str(file), "--database", url])
    assert again.exit_code == 0
    assert "0 new sightings" in again.stdout and "30 already recorded" in again.stdout
    payload = json.loads(listed.stdout)
    assert len(payload) == 6
    assert sum(item["sightings"] for item in payload) == 30


def test_bad_lines_exit_1_with_line_numbers_on_stderr(tmp_path: Path) -> None:
    file = write_lines(
        tmp_path / "d.jsonl", [GOOD, "{broken", GOOD.replace("+08:00", ""), GOOD.replace("30.2741", "30.29")]
    )
    result = runner.invoke(make_app(), ["ingest", str(file), "--database", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 1
    problems = result.stderr.strip().splitlines()
    assert problems[0].startswith(f"{file}:line 2: line: not valid JSON")
    assert problems[1].startswith(f"{file}:line 3: time: ") and "no time zone" in problems[1]
    assert "4 lines read, 2 bad, 2 observations: 2 new sightings (0 dropped), 2 candidates opened" in result.stdout


def test_missing_image_is_a_warning_and_exit_0(tmp_path: Path) -> None:
    line = json.loads(GOOD) | {"image": "frames/nowhere.jpg"}
    file = write_lines(tmp_path / "d.jsonl", [json.dumps(line)])
    result = runner.invoke(make_app(), ["ingest", str(file), "--database", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 0, result.output
    assert f"{file}:line 1: image: {tmp_path / 'frames' / 'nowhere.jpg'} not found" in result.stderr
    assert "1 images missing" in result.stdout


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(
        make_app(), ["ingest", str(tmp_path / "absent.jsonl"), "--database", f"sqlite:///{tmp_path / 'x.db'}"]
    )
    assert result.exit_code == 2
    assert "cannot read" in result.stderr and "absent.jsonl" in result.stderr


@pytest.mark.parametrize(
    ("option", "message"), [("street_occupation", "TYPE=METRES"), ("parking=30", "not a violation type")]
)
def test_bad_radius_is_a_usage_error(tmp_path: Path, option: str, message: str) -> None:
    file = write_lines(tmp_path / "d.jsonl", [GOOD])
    result = runner.invoke(
        make_app(), ["ingest", str(file), "--radius", option, "--database", f"sqlite:///{tmp_path / 'x.db'}"]
    )
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.parametrize(
    ("options", "opened"),
    [
        ([], 1),  # a detection without an accuracy reaches 50 m
        (["--max-radius", "20"], 2),
        (["--max-radius", "20", "--radius", "street_occupation=40"], 1),  # the type's radius, when larger
        (["--max-radius", "20", "--radius", "illegal_advertising=40"], 2),
    ],
)
def test_radius_options_change_dedup(tmp_path: Path, options: list[str], opened: int) -> None:
    near = json.loads(GOOD) | {"lat": 30.2741 + 30 / 111_195, "time": "2026-05-01T20:40:00+08:00"}
    file = write_lines(tmp_path / "d.jsonl", [GOOD, json.dumps(near)])
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = runner.invoke(make_app(), ["ingest", str(file), *options, "--database", url])
    assert result.exit_code == 0, result.output
    assert f"{opened} candidates opened, {2 - opened} attached" in result.stdout


def test_database_url_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    file = write_lines(tmp_path / "d.jsonl", [GOOD])
    assert runner.invoke(make_app(), ["ingest", str(file)]).exit_code == 0
    assert (tmp_path / "env.db").exists()


def test_standard_input(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = runner.invoke(make_app(), ["ingest", "-", "--database", url], input=GOOD + "\n{bad\n")
    assert result.exit_code == 1
    assert result.stderr.startswith("<stdin>:line 2: line: not valid JSON")
    assert "2 lines read, 1 bad" in result.stdout
