"""One database per backend for the module, emptied before each test (creating a PostgreSQL database is slow)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from factories.database import BACKENDS, created_engine
from sqlalchemy import Engine

from service.db import Base


@pytest.fixture(scope="module", params=BACKENDS)
def module_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with created_engine(request.param, tmp_path_factory.mktemp("database")) as engine:
        yield engine


@pytest.fixture
def engine(module_engine: Engine) -> Engine:
    """An empty database with every table (SQLite and PostgreSQL)."""
    with module_engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    return module_engine
