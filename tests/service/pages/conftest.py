"""Fixtures of the review-page tests: an app on a fresh SQLite database with a seeded queue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from factories.api import PASSWORD, SECRET, Clock, Harness
from factories.database import created_engine
from factories.review_pages import SeededQueue, seed_queue
from sqlalchemy import Engine

from service.api import ApiSettings, create_app
from service.api.security import hash_password
from service.db import session_factory
from service.evidence import EvidenceStore

__all__ = ["PASSWORD"]


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    with created_engine("sqlite", tmp_path) as made:
        yield made


@pytest.fixture
def harness(engine: Engine, tmp_path: Path, password_hash: str) -> Iterator[Harness]:
    """The app with a fixed clock, on an empty database."""
    data_root = tmp_path / "data"
    evidence_root = data_root / "evidence"
    evidence_root.mkdir(parents=True)
    clock = Clock()
    app = create_app(ApiSettings(session_secret=SECRET), engine=engine, evidence_root=evidence_root, clock=clock)
    made = Harness(app, engine, data_root, evidence_root, clock, password_hash)
    yield made
    for client in made.clients:
        client.close()


@pytest.fixture
def queue(harness: Harness) -> SeededQueue:
    """Four open candidates with evidence and one confirmed, in the harness's database."""
    with session_factory(harness.engine)() as session:
        seeded = seed_queue(session, EvidenceStore(harness.evidence_root))
        session.commit()
    return seeded
