"""``xiuhua watch`` through the Typer app: detections as JSON lines, health lines, config and database streams."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from factories.database import created_engine
from factories.detectors import BrightnessDetector
from factories.media import mjpeg_server
from factories.streams import RecordingFactory, ScriptedSource
from typer.testing import CliRunner

import service.cli.watch as watch_module
from service.cli.main import app
from service.db import session_factory
from service.db.models.cameras import Camera
from service.streams import StreamManager, StreamManagerSettings, load_stream_config

runner = CliRunner()


def records(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_prints_detections_and_health_lines(tmp_path: Path, fake_detector: BrightnessDetector) -> None:
    config = tmp_path / "streams.yaml"
    with mjpeg_server() as server:
        config.write_text(f"- {{key: cam-1, url: '{server.url}', kind: patrol, fps: 10}}\n")
        result = runner.invoke(
            app, ["watch", "--print-only", "--config", str(config), "--duration", "2", "--health-every", "0.5"]
        )

    assert result.exit_code == 0, result.output
    lines = records(result.stdout)
    assert lines and {line["stream"] for line in lines} == {"cam-1"}
    assert set(lines[0]) == {"stream", "frame_index", "time", "class", "confidence", "box"}
    assert lines[0]["class"] == "vendor_stall"
    health = [line for line in result.stderr.splitlines() if line.startswith("cam-1 ")]
    assert len(health) >= 2  # periodic lines, and the last one at exit
    assert "running" in health[0] and "out=" in health[-1] and "lag=" in health[-1]


def test_streams_from_the_database(
    tmp_path: Path, fake_detector: BrightnessDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    with created_engine("sqlite", tmp_path) as engine, mjpeg_server() as server:
        with session_factory(engine)() as session:
            session.add(Camera(key="cam-db", kind="patrol", stream_url=server.url, settings={"stream": {"fps": 10}}))
            session.commit()
        monkeypatch.setenv("DATABASE_URL", str(engine.url))
        result = runner.invoke(app, ["watch", "--print-only", "--db", "--duration", "1.5", "--health-every", "0"])

    assert result.exit_code == 0, result.output
    assert "database: added cam-db" in result.stderr
    assert {line["stream"] for line in records(result.stdout)} == {"cam-db"}


def test_bad_config_names_file_and_field(tmp_path: Path, fake_detector: BrightnessDetector) -> None:
    config = tmp_path / "streams.yaml"
    config.write_text("- {key: cam-1, url: 'rtsp://10.0.0.1/x', fps: 0}\n")

    result = runner.invoke(app, ["watch", "--config", str(config)])

    assert result.exit_code == 2
    assert f"{config}: cameras[0].fps: must be a positive number" in result.stderr
    assert "Traceback" not in result.output


def test_needs_a_config_or_the_database() -> None:
    result = runner.invoke(app, ["watch"])

    assert result.exit_code == 2
    assert "--config" in result.output


def test_a_changed_config_file_is_reloaded_and_a_broken_one_keeps_the_streams(tmp_path: Path) -> None:
    config = tmp_path / "streams.yaml"
    config.write_text("- {key: a, url: 'rtsp://10.0.0.1/a'}\n")
    live = lambda spec, settings: ScriptedSource([], ends=False)  # noqa: E731
    with StreamManager(StreamManagerSettings(poll_s=0.05), RecordingFactory(), source_factory=live) as manager:
        loop = watch_module.WatchLoop(manager, config, db=False, health_every=0, sync_every=1)
        manager.sync(load_stream_config(config), origin="config")

        rewrite(config, "- {key: b, url: 'rtsp://10.0.0.2/b'}\n")
        loop.sync()
        after_change = set(manager.health())
        rewrite(config, "- {key: b, url: 'rtsp://10.0.0.2/b', fps: -3}\n")
        loop.sync()
        after_broken = set(manager.health())

    assert after_change == {"b"}
    assert after_broken == {"b"}


def rewrite(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns
    path.write_text(text)
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))  # a new mtime even on coarse clocks
