"""Fixtures for the posting tests: a database of each backend with its sessions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from factories.database import BACKENDS, created_engine
from sqlalchemy.orm import Session, sessionmaker

from service.db import session_factory


@pytest.fixture(params=BACKENDS)
def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """Sessions on a fresh SQLite or PostgreSQL database with the tables created."""
    with created_engine(request.param, tmp_path) as engine:
        yield session_factory(engine)


@pytest.fixture
def sqlite_sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """Sessions on a fresh SQLite database (for tests whose behaviour does not depend on the backend)."""
    with created_engine("sqlite", tmp_path) as engine:
        yield session_factory(engine)


@pytest.fixture
def postgres_sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """Sessions on a fresh PostgreSQL database (skipped when PostgreSQL is not running)."""
    with created_engine("postgresql", tmp_path) as engine:
        yield session_factory(engine)
