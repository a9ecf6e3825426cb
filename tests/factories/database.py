"""Throw-away databases for tests: a SQLite file, or a fresh PostgreSQL database dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from service.db import Base, make_engine

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BACKENDS = ("sqlite", "postgresql")


def postgres_available() -> bool:
    """Whether the local PostgreSQL answers (CI starts it; a laptop may not have one)."""
    try:
        engine = make_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@contextmanager
def temporary_database(backend: str, folder: Path) -> Iterator[str]:
    """Yield the URL of an empty database of ``backend`` that is removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'test-{uuid.uuid4().hex[:8]}.db'}"
        return
    if not postgres_available():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    name = f"xiuhua_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def created_engine(backend: str, folder: Path) -> Iterator[Engine]:
    """An engine on a temporary database whose tables are created from the models (no migrations)."""
    with temporary_database(backend, folder) as url:
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        try:
            yield engine
        finally:
            engine.dispose()
