"""``xiuhua watch`` records through the pipeline by default; ``xiuhua serve --watch`` serves the streams it watches."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from factories.api import SECRET
from factories.detectors import BrightnessDetector
from factories.media import mjpeg_server
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from service.api.crud import users as user_store
from service.cli import serve as serve_module
from service.cli.main import app
from service.db import make_engine, session_factory
from service.db.models import Camera, Sighting, User
from service.pipeline.stream_setup import PeriodicSync

runner = CliRunner()


def test_watch_records_sightings_into_the_database(tmp_path: Path, fake_detector: BrightnessDetector) -> None:
    config = tmp_path / "streams.yaml"
    url = f"sqlite:///{tmp_path / 'watch.db'}"
    with mjpeg_server() as server:
        config.write_text(f"- {{key: van-1, url: '{server.url}', kind: patrol, fps: 10}}\n")
        result = runner.invoke(
            app,
            ["watch", "--config", str(config), "--database", url, "--data", str(tmp_path / "data"), "--duration", "2"],
        )

    assert result.exit_code == 0, result.output
    assert not [line for line in result.stdout.splitlines() if line.startswith("{")]  # nothing printed
    engine = create_engine(url)
    with session_factory(engine)() as session:
        sightings = list(session.scalars(select(Sighting)))
    engine.dispose()
    # The track still open at the end is recorded when the stream stops (dropped: van-1 is not a registered camera).
    assert sightings and all(s.source.startswith("van-1@") and s.class_name == "vendor_stall" for s in sightings)
    assert {s.drop_reason for s in sightings} == {"not located: a candidate needs a position"}


def test_watch_names_a_bad_rules_file(tmp_path: Path, fake_detector: BrightnessDetector) -> None:
    config = tmp_path / "streams.yaml"
    config.write_text("- {key: cam-1, url: 'rtsp://10.0.0.1/x'}\n")
    url = f"sqlite:///{tmp_path / 'watch.db'}"

    result = runner.invoke(app, ["watch", "-c", str(config), "--database", url, "--rules", str(tmp_path / "nope")])

    assert result.exit_code == 2
    assert "nope" in result.stderr and "Traceback" not in result.output


def test_serve_watch_builds_an_app_whose_streams_follow_the_cameras_table(
    tmp_path: Path, fake_detector: BrightnessDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XIUHUA_SESSION_SECRET", SECRET)
    engine = make_engine(f"sqlite:///{tmp_path / 'serve.db'}")
    data = tmp_path / "data"
    manager = serve_module.stream_manager(engine, data=data, model=None, rules=None)
    api = serve_module.build_app(engine=engine, data=data, streams=manager)  # migrates the database
    sessions = session_factory(engine)
    with mjpeg_server() as server, manager, sessions() as session:
        session.add(User(username="prometheus", password_hash="x", role="reviewer"))
        session.add(Camera(key="van-1", kind="patrol", stream_url=server.url, settings={"stream": {"fps": 10}}))
        session.commit()
        _, token = user_store.create_token(session, name="scraper", username="prometheus")
        session.commit()
        syncing = PeriodicSync(manager, sessions, every_s=0.1).start()
        try:
            client = TestClient(api, headers={"Authorization": f"Bearer {token}"})
            assert [item["key"] for item in client.get("/api/streams").json()["items"]] == ["van-1"]
            session.add(Camera(key="van-2", kind="patrol", stream_url=server.url))
            session.commit()
            deadline = time.monotonic() + 10
            while len(manager.health()) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            metrics = client.get("/metrics").text
        finally:
            syncing.stop()
            client.close()
    engine.dispose()
    assert manager.health() == {}  # closed with the block
    assert 'xiuhua_stream_up{stream="van-2"}' in metrics
