"""A database per backend for the reference tests, emptied after each test, and a reference store in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from factories.database import created_engine
from factories.module_database import shared_engine
from factories.review import emptied
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from service.db import session_factory
from service.references import ReferenceStore

__all__ = ["shared_engine"]  # a fixture (both backends), from factories.module_database


@pytest.fixture(scope="module")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A SQLite database with the tables created, shared by the tests of one module."""
    with created_engine("sqlite", tmp_path_factory.mktemp("db")) as engine:
        yield engine


@pytest.fixture
def session(shared_engine: Engine) -> Iterator[Session]:
    """A session on the module's database (both backends); every table is emptied after the test."""
    with emptied(shared_engine), session_factory(shared_engine)() as opened:
        yield opened


@pytest.fixture
def sqlite_session(sqlite_engine: Engine) -> Iterator[Session]:
    """A session on the module's SQLite database; every table is emptied after the test."""
    with emptied(sqlite_engine), session_factory(sqlite_engine)() as opened:
        yield opened


@pytest.fixture
def store(tmp_path: Path) -> ReferenceStore:
    """A reference store in the test's folder."""
    return ReferenceStore(tmp_path / "references")
