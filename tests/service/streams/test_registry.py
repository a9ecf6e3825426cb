"""Cameras in the database become streams: enabled ones with a URL; changes are synced without a restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from factories.database import created_engine
from factories.streams import RecordingFactory, ScriptedSource
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from service.db import session_factory
from service.db.models.cameras import Camera
from service.streams import StreamManager, StreamManagerSettings, StreamSpec
from service.streams.registry import camera_stream_specs


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    with created_engine("sqlite", tmp_path) as engine:
        yield engine


def camera(key: str, url: str | None, *, enabled: bool = True, kind: str = "fixed", **settings: Any) -> Camera:
    return Camera(key=key, kind=kind, stream_url=url, enabled=enabled, settings=settings or None)


def test_enabled_cameras_with_urls_become_specs(engine: Engine) -> None:
    with session_factory(engine)() as session:
        session.add_all(
            [
                camera("cam-2", "rtsp://10.0.0.2/main", kind="ptz", stream={"fps": 1, "gate": True}),
                camera("cam-1", "rtsp://10.0.0.1/main"),
                camera("off", "rtsp://10.0.0.3/main", enabled=False),
                camera("no-url", None),
                camera("bad", "rtsp://10.0.0.4/main", stream={"fps": 0}),
                camera("typo", "rtsp://10.0.0.5/main", stream={"gates": True}),
            ]
        )
        session.commit()

        specs, invalid = camera_stream_specs(session)

    assert specs == [
        StreamSpec(key="cam-1", url="rtsp://10.0.0.1/main"),
        StreamSpec(key="cam-2", url="rtsp://10.0.0.2/main", kind="ptz", fps=1, gate=True),
    ]
    assert invalid["bad"].startswith("settings.stream.fps: must be a positive number")
    assert invalid["typo"].startswith("settings.stream.gates: unknown option")
    assert set(invalid) == {"bad", "typo"}


def test_sync_from_db_follows_the_cameras_table(engine: Engine) -> None:
    factory = RecordingFactory()
    opened: list[str] = []

    def live_source(spec: StreamSpec, settings: object) -> ScriptedSource:
        opened.append(spec.key)
        return ScriptedSource([], ends=False)

    sessions = session_factory(engine)
    with StreamManager(StreamManagerSettings(poll_s=0.05), factory, source_factory=live_source) as manager:
        manager.add(StreamSpec(key="manual", url="rtsp://10.0.0.9/main"))
        with sessions() as session:
            session.add_all([camera("cam-1", "rtsp://10.0.0.1/main"), camera("cam-2", "rtsp://10.0.0.2/main")])
            session.commit()
            first = manager.sync_from_db(session)
            change(session, "cam-1", enabled=False)
            change(session, "cam-2", stream_url="rtsp://10.0.0.22/main")
            second = manager.sync_from_db(session)

        assert first.added == ("cam-1", "cam-2")
        assert second.removed == ("cam-1",) and second.updated == ("cam-2",)
        assert set(manager.health()) == {"cam-2", "manual"}
        assert manager.specs()["cam-2"].url == "rtsp://10.0.0.22/main"
        assert factory.handlers["cam-1"].closed.is_set()


def change(session: Session, key: str, **values: object) -> None:
    row = session.query(Camera).filter_by(key=key).one()
    for name, value in values.items():
        setattr(row, name, value)
    session.commit()
