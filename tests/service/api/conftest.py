"""Fixtures of the API tests: one schema per backend per session, an app per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from factories.api import PASSWORD, SECRET, TEST_LIMITS, Clock, Harness
from factories.database import created_engine
from fastapi import APIRouter
from sqlalchemy import Engine

from service.api import ApiSettings, create_app
from service.api.security import hash_password
from service.db import Base

__all__ = ["PASSWORD", "SECRET"]


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture(scope="session")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Engine]]:
    """One schema per backend for the whole session; each test empties the tables afterwards."""
    stack = ExitStack()
    made: dict[str, Engine] = {}

    def get(backend: str) -> Engine:
        if backend not in made:
            made[backend] = stack.enter_context(created_engine(backend, tmp_path_factory.mktemp(backend)))
        return made[backend]

    with stack:
        yield get


@pytest.fixture
def backend() -> str:
    """The database of a test; modules that touch data parametrize it over both."""
    return "sqlite"


@pytest.fixture
def make_harness(
    backend: str, engines: Callable[[str], Engine], tmp_path: Path, password_hash: str
) -> Iterator[Callable[..., Harness]]:
    """Build the app (optionally with other settings or extra routers) on the test's backend."""
    engine = engines(backend)
    harnesses: list[Harness] = []

    def make(extra_routers: tuple[APIRouter, ...] = (), **settings: Any) -> Harness:
        clock = Clock()
        data_root = tmp_path / "data"
        evidence_root = data_root / "evidence"
        evidence_root.mkdir(parents=True, exist_ok=True)
        app = create_app(
            ApiSettings(**{"session_secret": SECRET, **TEST_LIMITS, **settings}),
            engine=engine,
            evidence_root=evidence_root,
            clock=clock,
            extra_routers=extra_routers,
        )
        harness = Harness(app, engine, data_root, evidence_root, clock, password_hash)
        harnesses.append(harness)
        return harness

    try:
        yield make
    finally:
        for harness in harnesses:
            for client in harness.clients:
                client.close()
        with engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())


@pytest.fixture
def harness(make_harness: Callable[..., Harness]) -> Harness:
    return make_harness()
