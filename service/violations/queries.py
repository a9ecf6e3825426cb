"""Data access for sightings, candidates and their evidence: every query of the violations area, keyword-only.

The recording path uses Core statements on the tables (one round trip each, no unit-of-work bookkeeping): it
runs once per sighting, thousands of times a second during an ingest. Nothing here commits; the caller's session
owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import (
    Select,
    Table,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from service.db.models.cameras import Camera
from service.db.models.cases import Case
from service.db.models.violations import Candidate, Evidence, Sighting
from service.violations.dedup import NearbyCandidate, SearchBox
from service.violations.observation import Observation
from service.violations.records import CandidateSummary, EvidenceRecord

T = TypeVar("T")
SIGHTINGS = cast(Table, Sighting.__table__)
CANDIDATES = cast(Table, Candidate.__table__)
EVIDENCE = cast(Table, Evidence.__table__)
CASES = cast(Table, Case.__table__)

# Case stages after which new sightings no longer attach to the case's candidate.
ENDED_CASE_STAGES = ("closed", "void")
# Candidate statuses that can take new sightings: open ones, and confirmed ones while their case is open.
ATTACHABLE_STATUSES = ("open", "confirmed")
# Bound on the number of ids in one IN (...) list (SQLite allows 32 766 variables).
ID_CHUNK = 900

# The recording path's statements are built once: building and cache-keying a statement per call cost more
# than running it.
_LOCK = text("SELECT pg_advisory_xact_lock(key) FROM unnest(CAST(:keys AS bigint[])) AS key")
# SQLite: a write that changes nothing still takes the database's write lock, held to the end of the transaction.
_TAKE_WRITE_LOCK = update(SIGHTINGS).where(SIGHTINGS.c.id == -1).values(status=SIGHTINGS.c.status)
_INSERT_SIGHTINGS = insert(SIGHTINGS).returning(SIGHTINGS.c.id, sort_by_parameter_order=True)
_INSERT_CANDIDATE = insert(CANDIDATES).returning(CANDIDATES.c.id)
_UPDATE_CANDIDATE = (
    update(CANDIDATES)
    .where(CANDIDATES.c.id == bindparam("candidate_id"))
    .values(
        sightings_count=bindparam("new_count"),
        lat=bindparam("new_lat"),
        lon=bindparam("new_lon"),
        accuracy_m=bindparam("new_accuracy_m"),
        first_seen=bindparam("new_first_seen", type_=CANDIDATES.c.first_seen.type),
        last_seen=bindparam("new_last_seen", type_=CANDIDATES.c.last_seen.type),
        score=bindparam("new_score"),
    )
)


def _nearby_statement() -> Select[Any]:
    candidate = CANDIDATES.c
    # Constant lists as SQL literals: an expanding IN parameter is re-rendered on every execution.
    ended: list[ColumnElement[str]] = [literal_column(f"'{stage}'") for stage in ENDED_CASE_STAGES]
    attachable: list[ColumnElement[str]] = [literal_column(f"'{status}'") for status in ATTACHABLE_STATUSES]
    case_open = exists().where(CASES.c.candidate_id == candidate.id, CASES.c.stage.not_in(ended))
    simultaneous = exists().where(
        SIGHTINGS.c.candidate_id == candidate.id,
        SIGHTINGS.c.source == bindparam("source"),
        SIGHTINGS.c.first_seen <= bindparam("last_seen", type_=SIGHTINGS.c.first_seen.type),
        SIGHTINGS.c.last_seen >= bindparam("first_seen", type_=SIGHTINGS.c.last_seen.type),
    )
    return select(
        candidate.id,
        candidate.lat,
        candidate.lon,
        candidate.accuracy_m,
        candidate.first_seen,
        candidate.last_seen,
        candidate.sightings_count,
        candidate.score,
        case_open.label("case_open"),
    ).where(
        candidate.violation_type == bindparam("violation_type"),
        candidate.status.in_(attachable),
        candidate.lat.between(bindparam("south"), bindparam("north")),
        candidate.lon.between(bindparam("west"), bindparam("east")),
        or_(candidate.status == "open", case_open),
        ~simultaneous,
    )


_NEARBY = _nearby_statement()


@dataclass(frozen=True)
class StoredSighting:
    """The parts of a stored sighting a repeated recording reports back."""

    id: int
    candidate_id: int | None
    drop_reason: str | None


def lock_for_recording(session: Session, *, keys: Sequence[int]) -> None:
    """Serialise writers that could touch the same candidates, until the caller's commit or rollback.

    PostgreSQL: transaction-level advisory locks on ``keys``, taken in the given (sorted) order in one statement.
    SQLite: the database's write lock, taken by a write that changes nothing (unless this transaction holds it).
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_LOCK, {"keys": list(keys)})  # unnest keeps the order
    elif connection.dialect.name == "sqlite" and not getattr(
        connection.connection.dbapi_connection, "in_transaction", False
    ):
        connection.execute(_TAKE_WRITE_LOCK)


def existing_sightings(session: Session, *, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], StoredSighting]:
    """The stored sightings among ``(source, track_key)`` pairs."""
    by_source: dict[str, list[str]] = {}
    for source, track_key in keys:
        by_source.setdefault(source, []).append(track_key)
    found = {}
    for source, track_keys in by_source.items():
        for chunk in _chunks(track_keys, ID_CHUNK):
            statement = select(
                SIGHTINGS.c.track_key, SIGHTINGS.c.id, SIGHTINGS.c.candidate_id, SIGHTINGS.c.drop_reason
            ).where(SIGHTINGS.c.source == source, SIGHTINGS.c.track_key.in_(chunk))
            for track_key, *stored in session.connection().execute(statement):
                found[(source, track_key)] = StoredSighting(*stored)
    return found


def sighting_row(
    observation: Observation,
    *,
    camera_id: int | None,
    status: str,
    drop_reason: str | None,
    candidate_id: int | None,
) -> dict[str, Any]:
    """The column values of a sighting row for ``observation``."""
    location = observation.location
    return {
        "source": observation.source,
        "track_key": observation.track_key,
        "camera_id": camera_id,
        "class_name": observation.class_name,
        "first_seen": observation.first_seen,
        "last_seen": observation.last_seen,
        "dwell_s": observation.dwell_seconds,
        "frames_seen": observation.frames_seen,
        "score": observation.score,
        "lat": location.lat if location else None,
        "lon": location.lon if location else None,
        "accuracy_m": location.accuracy_m if location else None,
        "box": list(observation.box) if observation.box is not None else None,
        "status": status,
        "drop_reason": drop_reason,
        "candidate_id": candidate_id,
    }


def insert_sightings(session: Session, *, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert sighting rows (from :func:`sighting_row`) in one statement; their ids, in order."""
    if not rows:
        return []
    return list(session.connection().execute(_INSERT_SIGHTINGS, list(rows)).scalars())


def nearby_candidates(
    session: Session,
    *,
    violation_type: str,
    box: SearchBox,
    source: str,
    first_seen: datetime,
    last_seen: datetime,
) -> list[NearbyCandidate]:
    """Candidates of ``violation_type`` inside ``box`` that could take a sighting seen from ``source``.

    Open candidates, and confirmed ones whose case is neither closed nor void. Candidates that already hold a
    sighting from the same source whose time span overlaps ``[first_seen, last_seen]`` are left out: both were
    in view at once, so they are different objects. The time window and the exact radius are checked by the
    caller (:func:`service.violations.dedup.choose_candidate`).
    """
    parameters = {
        "violation_type": violation_type,
        "south": box.south,
        "north": box.north,
        "west": box.west,
        "east": box.east,
        "source": source,
        "first_seen": first_seen,
        "last_seen": last_seen,
    }
    return [NearbyCandidate(*row) for row in session.connection().execute(_NEARBY, parameters)]


def insert_candidate(
    session: Session,
    *,
    observation: Observation,
    violation_type: str,
    event_code: str,
    accuracy_m: float,
    camera_id: int | None,
) -> int:
    """Open a candidate at the observation's place; its id."""
    assert observation.location is not None, "a candidate needs a location"
    values = {
        "violation_type": violation_type,
        "event_code": event_code,
        "class_name": observation.class_name,
        "status": "open",
        "lat": observation.location.lat,
        "lon": observation.location.lon,
        "accuracy_m": accuracy_m,
        "camera_id": camera_id,
        "first_seen": observation.first_seen,
        "last_seen": observation.last_seen,
        "sightings_count": 1,
        "score": observation.score,
    }
    return session.connection().execute(_INSERT_CANDIDATE, values).scalar_one()


def update_candidates(session: Session, *, candidates: Sequence[NearbyCandidate]) -> None:
    """Write the new state of candidates (position, accuracy, time span, sightings, best score) in one go.

    The caller holds the locks that keep other writers off these candidates (:func:`lock_for_recording`).
    """
    if candidates:
        parameters = [
            {
                "candidate_id": candidate.id,
                "new_count": candidate.sightings_count,
                "new_lat": candidate.lat,
                "new_lon": candidate.lon,
                "new_accuracy_m": candidate.accuracy_m,
                "new_first_seen": candidate.first_seen,
                "new_last_seen": candidate.last_seen,
                "new_score": candidate.score,
            }
            for candidate in candidates
        ]
        session.connection().execute(_UPDATE_CANDIDATE, parameters)


def insert_evidence(session: Session, *, rows: Sequence[tuple[int, int, EvidenceRecord]]) -> None:
    """Store evidence rows, each ``(candidate_id, sighting_id, record)``."""
    if rows:
        session.connection().execute(
            insert(EVIDENCE),
            [
                {
                    "candidate_id": candidate_id,
                    "sighting_id": sighting_id,
                    "kind": record.kind,
                    "path": record.path,
                    "sha256": record.sha256,
                    "taken_at": record.taken_at,
                }
                for candidate_id, sighting_id, record in rows
            ],
        )


def camera_id(session: Session, *, key: str) -> int | None:
    """The id of the camera the department calls ``key``, if it is registered."""
    return session.scalars(select(Camera.id).where(Camera.key == key)).first()


def list_candidates(
    session: Session,
    *,
    statuses: Sequence[str] | None = ("open",),
    violation_type: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> list[CandidateSummary]:
    """Candidates, most recently seen first, each with its newest evidence file of each kind.

    Args:
        session: Database session.
        statuses: Keep these statuses; ``None`` keeps all.
        violation_type: Keep only this violation type.
        since: Keep candidates last seen at or after this time.
        limit: At most this many.
    """
    candidate = CANDIDATES.c
    conditions: list[ColumnElement[bool]] = []
    if statuses is not None:
        conditions.append(candidate.status.in_(list(statuses)))
    if violation_type is not None:
        conditions.append(candidate.violation_type == violation_type)
    if since is not None:
        conditions.append(candidate.last_seen >= since)
    statement = select(CANDIDATES).where(and_(True, *conditions)).order_by(candidate.last_seen.desc(), candidate.id)
    if limit is not None:
        statement = statement.limit(limit)
    rows = session.execute(statement).mappings().all()
    evidence = newest_evidence(session, candidate_ids=[row["id"] for row in rows])
    return [
        CandidateSummary(
            id=row["id"],
            violation_type=row["violation_type"],
            event_code=row["event_code"],
            class_name=row["class_name"],
            status=row["status"],
            lat=row["lat"],
            lon=row["lon"],
            accuracy_m=row["accuracy_m"],
            first_seen=row["first_seen"],
            last_seen=row["last_seen"],
            sightings=row["sightings_count"],
            score=row["score"],
            evidence=tuple(evidence.get(row["id"], ())),
        )
        for row in rows
    ]


def newest_evidence(session: Session, *, candidate_ids: Sequence[int]) -> dict[int, list[EvidenceRecord]]:
    """The newest evidence file of each kind per candidate, newest first."""
    found: dict[int, list[EvidenceRecord]] = {}
    for chunk in _chunks(candidate_ids, ID_CHUNK):
        rank = (
            func.row_number()
            .over(
                partition_by=(EVIDENCE.c.candidate_id, EVIDENCE.c.kind),
                order_by=(EVIDENCE.c.taken_at.desc(), EVIDENCE.c.id.desc()),
            )
            .label("rank")
        )
        ranked = (
            select(
                EVIDENCE.c.candidate_id, EVIDENCE.c.kind, EVIDENCE.c.path, EVIDENCE.c.sha256, EVIDENCE.c.taken_at, rank
            )
            .where(EVIDENCE.c.candidate_id.in_(chunk))
            .subquery()
        )
        newest = select(ranked).where(ranked.c.rank == 1).order_by(ranked.c.candidate_id, ranked.c.taken_at.desc())
        for row in session.execute(newest):
            found.setdefault(row.candidate_id, []).append(EvidenceRecord(row.kind, row.path, row.sha256, row.taken_at))
    return found


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
