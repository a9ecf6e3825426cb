"""The schema: migrations match the models on both databases, and times stay aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from factories.database import BACKENDS, created_engine, temporary_database
from sqlalchemy import inspect

import service.db.models as models
from service.db import Base, DatabaseError, init_db, make_engine, session_factory


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrations_build_exactly_the_models(backend: str, tmp_path: Path) -> None:
    with temporary_database(backend, tmp_path) as url:
        engine = make_engine(url)
        init_db(engine)
        init_db(engine)  # idempotent: a second start changes nothing
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
        tables = set(inspect(engine).get_table_names())
        engine.dispose()
    assert diff == [], f"models and migrations differ; run `python -m service.db.revision MSG`: {diff}"
    assert {"candidates", "sightings", "cases", "outbox", "review_actions", "users"} <= tables


@pytest.mark.parametrize("backend", BACKENDS)
def test_times_come_back_aware_utc(backend: str, tmp_path: Path) -> None:
    beijing = timezone(timedelta(hours=8))
    taken = datetime(2026, 5, 1, 20, 30, tzinfo=beijing)
    with created_engine(backend, tmp_path) as engine, session_factory(engine)() as session:
        camera = models.Camera(key="cam-1", kind="fixed")
        session.add(camera)
        session.flush()
        session.add(models.Reference(camera_id=camera.id, taken_at=taken, image_path="r.jpg", sha256="0" * 64))
        session.commit()
        session.expunge_all()
        stored = session.query(models.Reference).one()
    assert stored.taken_at == taken
    assert stored.taken_at.tzinfo is not None and stored.taken_at.utcoffset() == timedelta(0)
    assert stored.taken_at == datetime(2026, 5, 1, 12, 30, tzinfo=UTC)


def test_naive_times_are_refused(tmp_path: Path) -> None:
    with created_engine("sqlite", tmp_path) as engine, session_factory(engine)() as session:
        session.add(models.Camera(key="cam-1", kind="fixed", created_at=datetime(2026, 5, 1, 12, 0)))
        with pytest.raises(Exception, match="naive datetime"):
            session.commit()


def test_unreachable_database_is_named(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(DatabaseError, match="a-file"):
        init_db(make_engine(f"sqlite:///{tmp_path / 'a-file' / 'x.db'}"))
