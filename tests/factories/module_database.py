"""Pytest fixtures: one database per backend for a test module, emptied after each test.

Creating a PostgreSQL database takes about a second, so a module shares one and every table is emptied after each
test. A ``conftest.py`` takes the fixtures by importing them::

    from factories.module_database import session, sessions, shared_engine

    __all__ = ["session", "sessions", "shared_engine"]
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from factories.database import BACKENDS, created_engine
from factories.review import emptied
from service.db import session_factory


@pytest.fixture(scope="module", params=BACKENDS)
def shared_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A SQLite or PostgreSQL database with the tables created, shared by the tests of one module."""
    with created_engine(request.param, tmp_path_factory.mktemp("db")) as engine:
        yield engine


@pytest.fixture
def sessions(shared_engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions on the module's database; every table is emptied after the test."""
    with emptied(shared_engine):
        yield session_factory(shared_engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """One session on the module's database."""
    with sessions() as opened:
        yield opened
