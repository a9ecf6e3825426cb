"""One database per backend for these tests, emptied after each test (creating a PostgreSQL one takes ~1 s)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from factories.database import BACKENDS, created_engine
from factories.review import emptied
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

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
