"""Reviewers, candidates, sightings and evidence for the review-queue and case tests, and a reusable database.

A PostgreSQL database takes about a second to create, so the review tests share one database per backend and
empty its tables after every test (:func:`emptied`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from service.db import Base
from service.db.models import Candidate, Evidence, Sighting, User
from vision.taxonomy import DEFAULT_TAXONOMY_PATH, Taxonomy, load_taxonomy

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def taxonomy_with_context(folder: Path) -> Taxonomy:
    """The repository's taxonomy plus a scene-context class ``person`` (no event code), written under ``folder``."""
    text_ = DEFAULT_TAXONOMY_PATH.read_text(encoding="utf-8")
    text_ += "  - name: person\n    zh: 行人\n    en: Person\n    violation: context\n"
    path = folder / "taxonomy.yaml"
    path.write_text(text_, encoding="utf-8")
    return load_taxonomy(path)


@contextmanager
def emptied(engine: Engine) -> Iterator[Engine]:
    """Yield ``engine`` and delete every row of every table afterwards."""
    try:
        yield engine
    finally:
        with engine.begin() as connection:  # DELETE: much faster than TRUNCATE on PostgreSQL for a few rows
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())


def make_user(session: Session, username: str, *, role: str = "reviewer", active: bool = True) -> User:
    """A user (flushed) with a placeholder password hash."""
    user = User(username=username, password_hash="not-a-hash", role=role, active=active)
    session.add(user)
    session.flush()
    return user


def make_candidates(
    session: Session,
    count: int,
    *,
    class_name: str = "vendor_stall",
    violation_type: str = "street_occupation",
    event_code: str = "0501",
    start: datetime = NOW - timedelta(days=1),
    score: float = 0.8,
    lat: float = 31.2304,
    lon: float = 121.4737,
) -> list[Candidate]:
    """``count`` open candidates (flushed), first seen one minute apart from ``start``: the first is the oldest."""
    candidates = [
        Candidate(
            violation_type=violation_type,
            event_code=event_code,
            class_name=class_name,
            status="open",
            lat=lat + index * 1e-4,
            lon=lon,
            accuracy_m=5.0,
            first_seen=start + timedelta(minutes=index),
            last_seen=start + timedelta(minutes=index, seconds=30),
            sightings_count=1,
            score=score,
        )
        for index in range(count)
    ]
    session.add_all(candidates)
    session.flush()
    return candidates


def add_sighting(
    session: Session,
    candidate: Candidate,
    *,
    track_key: str,
    box: tuple[float, float, float, float] = (10.0, 20.0, 50.0, 60.0),
    frame_path: str | None = None,
    kind: str = "frame",
    sha256: str | None = None,
) -> Sighting:
    """A sighting of ``candidate`` and, with ``frame_path``, an evidence file of kind ``kind`` showing it.

    The evidence's SHA-256 is ``sha256``, or that of the path's text (the file need not exist).
    """
    sighting = Sighting(
        source="clip.mp4",
        track_key=track_key,
        class_name=candidate.class_name,
        first_seen=candidate.first_seen,
        last_seen=candidate.last_seen,
        frames_seen=5,
        score=candidate.score,
        lat=candidate.lat,
        lon=candidate.lon,
        box=list(box),
        status="candidate",
        candidate_id=candidate.id,
    )
    session.add(sighting)
    session.flush()
    if frame_path is not None:
        session.add(
            Evidence(
                candidate_id=candidate.id,
                sighting_id=sighting.id,
                kind=kind,
                path=frame_path,
                sha256=sha256 or hashlib.sha256(frame_path.encode()).hexdigest(),
                taken_at=candidate.first_seen,
            )
        )
        session.flush()
    return sighting
