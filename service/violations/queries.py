"""Data access for sightings, candidates and their evidence: every query of the violations area, keyword-only.

The recording path works a batch at a time with statements built once (building and cache-keying a statement
per call cost more than running it): one search for the candidates near all of a batch's observations, one
insert or update per table for what it decided. Nothing here commits; the caller's session owns the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import (
    Boolean,
    RowMapping,
    Select,
    Table,
    and_,
    bindparam,
    case,
    column,
    exists,
    func,
    insert,
    literal,
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
from service.violations.dedup import NearbyCandidate, SearchBox, Span
from service.violations.observation import Observation
from service.violations.records import CandidateSummary, EvidenceRecord

T = TypeVar("T")
SIGHTINGS = cast(Table, Sighting.__table__)
CANDIDATES = cast(Table, Candidate.__table__)
EVIDENCE = cast(Table, Evidence.__table__)
CASES = cast(Table, Case.__table__)

# Case stages after which the case's candidate counts as decided (it absorbs sightings only within the window).
ENDED_CASE_STAGES = ("closed", "void")
# Candidate statuses that can take new sightings: open ones and confirmed ones while their case is open (at any
# age), and decided ones (rejected, closed, confirmed with an ended case) last seen within the window. Merged
# candidates never: their sightings went to the candidate they were merged into.
ATTACHABLE_STATUSES = ("open", "confirmed", "rejected", "closed")
# Bound on the number of ids in one IN (...) list (SQLite allows 32 766 variables).
ID_CHUNK = 900

_LOCK = text("SELECT pg_advisory_xact_lock(key) FROM unnest(CAST(:keys AS bigint[])) AS key")
# SQLite: a write that changes nothing still takes the database's write lock, held to the end of the transaction.
_TAKE_WRITE_LOCK = update(SIGHTINGS).where(SIGHTINGS.c.id == -1).values(status=SIGHTINGS.c.status)
# Inserting many rows and getting their ids: RETURNING in parameter order, except on PostgreSQL, where taking the
# ids from the sequence first and inserting with a plain executemany is about three times faster (psycopg would
# otherwise parse one huge multi-row INSERT per batch).
_INSERT_RETURNING = {
    table.name: insert(table).returning(table.c.id, sort_by_parameter_order=True) for table in (SIGHTINGS, CANDIDATES)
}
_INSERT_PLAIN = {table.name: insert(table) for table in (SIGHTINGS, CANDIDATES)}
SEQUENCE_FROM_ROWS = 20  # below this, one INSERT ... RETURNING round trip is cheaper
_NEXT_IDS = {
    table.name: text(f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) FROM generate_series(1, :n)")
    for table in (SIGHTINGS, CANDIDATES)
}
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
# Boxes per search statement (SQLite binds one JSON text; the bound keeps each statement's work moderate).
BOX_CHUNK = 500

# Attachable candidates inside any of the boxes given as a JSON array of {"t", "s", "n", "w", "e"} (violation
# type, south, north, west, east): one statement for a whole batch, the boxes joined as a table so each one is
# an index range scan on ix_candidates_type_status_lat_lon (status IN (...) is a few ranges of that index); the
# live/window condition is checked on the rows the ranges find. :since is the batch's earliest first_seen minus
# the window: decided candidates last seen before it cannot take any of the batch's sightings. SQLite: CROSS
# JOIN keeps the boxes the outer loop. The plans are checked in tests/service/violations/test_query_plans.py.
_CASE_OPEN = (
    "EXISTS (SELECT 1 FROM cases AS k WHERE k.candidate_id = c.id AND k.stage NOT IN "
    f"({', '.join(repr(stage) for stage in ENDED_CASE_STAGES)}))"
)
_ATTACHABLE = f"c.status IN ({', '.join(repr(status) for status in ATTACHABLE_STATUSES)})"
_TAKES = {
    dialect: f"(c.status = 'open' OR c.last_seen >= {since} OR (c.status = 'confirmed' AND {_CASE_OPEN}))"
    for dialect, since in (("sqlite", ":since"), ("postgresql", "CAST(:since AS timestamptz)"))
}
_NEAR_COLUMNS = (
    "c.id, c.violation_type, c.class_name, c.lat, c.lon, c.accuracy_m, c.first_seen, c.last_seen, "
    f"c.sightings_count, c.score, c.status, {_CASE_OPEN} AS case_open"
)
NEAR_SQL = {
    "sqlite": f"""
        SELECT {_NEAR_COLUMNS} FROM json_each(:boxes) AS b CROSS JOIN candidates AS c
        WHERE c.violation_type = json_extract(b.value, '$.t') AND {_ATTACHABLE}
          AND c.lat BETWEEN json_extract(b.value, '$.s') AND json_extract(b.value, '$.n')
          AND c.lon BETWEEN json_extract(b.value, '$.w') AND json_extract(b.value, '$.e')
          AND {_TAKES["sqlite"]}""",
    # LATERAL ... OFFSET 0 keeps each box an index scan (unfenced, the planner hash-joins on the type alone).
    "postgresql": f"""
        SELECT near.* FROM json_to_recordset(CAST(:boxes AS json)) AS b(t text, s float8, n float8, w float8, e float8)
        CROSS JOIN LATERAL (
            SELECT {_NEAR_COLUMNS} FROM candidates AS c
            WHERE c.violation_type = b.t AND {_ATTACHABLE}
              AND c.lat BETWEEN b.s AND b.n AND c.lon BETWEEN b.w AND b.e
              AND {_TAKES["postgresql"]}
            OFFSET 0
        ) AS near""",
}
_NEAR_TYPES = (
    CANDIDATES.c.id,
    CANDIDATES.c.violation_type,
    CANDIDATES.c.class_name,
    CANDIDATES.c.lat,
    CANDIDATES.c.lon,
    CANDIDATES.c.accuracy_m,
    CANDIDATES.c.first_seen,
    CANDIDATES.c.last_seen,
    CANDIDATES.c.sightings_count,
    CANDIDATES.c.score,
    CANDIDATES.c.status,
    column("case_open", Boolean),
)
_NEAR = {
    name: text(sql).bindparams(bindparam("since", type_=CANDIDATES.c.last_seen.type)).columns(*_NEAR_TYPES)
    for name, sql in NEAR_SQL.items()
}


def _near_one_box(box: SearchBox, violation_type: str, since: datetime) -> Select[Any]:
    """The same search for one box in portable SQL (databases other than SQLite and PostgreSQL)."""
    candidate = CANDIDATES.c
    case_open = exists().where(CASES.c.candidate_id == candidate.id, CASES.c.stage.not_in(ENDED_CASE_STAGES))
    return select(*_NEAR_TYPES[:-1], case_open.label("case_open")).where(
        candidate.violation_type == violation_type,
        candidate.status.in_(ATTACHABLE_STATUSES),
        candidate.lat.between(box.south, box.north),
        candidate.lon.between(box.west, box.east),
        or_(candidate.status == "open", candidate.last_seen >= since, and_(candidate.status == "confirmed", case_open)),
    )


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
    """Insert sighting rows (from :func:`sighting_row`) in one go; their ids, in order."""
    return _insert_many(session, SIGHTINGS, rows)


def _insert_many(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    connection = session.connection()
    if connection.dialect.name != "postgresql" or len(rows) < SEQUENCE_FROM_ROWS:
        return list(connection.execute(_INSERT_RETURNING[table.name], list(rows)).scalars())
    ids = list(connection.execute(_NEXT_IDS[table.name], {"n": len(rows)}).scalars())
    connection.execute(_INSERT_PLAIN[table.name], [{**row, "id": id_} for row, id_ in zip(rows, ids, strict=True)])
    return ids


def candidates_near(
    session: Session, *, boxes: Sequence[tuple[str, SearchBox]], since: datetime
) -> list[NearbyCandidate]:
    """Candidates that could take a sighting in any of ``boxes`` (each with its violation type), each once.

    Of the box's violation type and inside it: open candidates, confirmed ones whose case is neither closed nor
    void, and decided ones (rejected, closed, confirmed with an ended case) last seen at or after ``since``. The
    exact reach, class, time window and "seen together" are for the caller to check.
    """
    connection = session.connection()
    statement = _NEAR.get(connection.dialect.name)
    found: dict[int, NearbyCandidate] = {}
    if statement is None:
        rows: Iterator[Any] = (
            row
            for violation_type, box in boxes
            for row in connection.execute(_near_one_box(box, violation_type, since))
        )
    else:
        rows = (
            row
            for chunk in _chunks(boxes, BOX_CHUNK)
            for row in connection.execute(statement, {"boxes": boxes_json(chunk), "since": since})
        )
    for row in rows:
        found.setdefault(row[0], NearbyCandidate(*row))
    return list(found.values())


def boxes_json(boxes: Sequence[tuple[str, SearchBox]]) -> str:
    """The ``:boxes`` parameter of :data:`NEAR_SQL`: a JSON array of ``{"t", "s", "n", "w", "e"}``."""
    return json.dumps(
        [{"t": t, "s": box.south, "n": box.north, "w": box.west, "e": box.east} for t, box in boxes],
        separators=(",", ":"),
    )


def sighting_spans(
    session: Session,
    *,
    candidate_ids: Sequence[int],
    sources: Collection[str],
    first_seen: datetime,
    last_seen: datetime,
) -> dict[int, list[Span]]:
    """When each candidate was seen by each of ``sources``, for its sightings overlapping the given time range.

    Two sightings from one source whose spans overlap were in view together: different objects.
    """
    spans: dict[int, list[Span]] = {}
    sighting = SIGHTINGS.c
    for chunk in _chunks(candidate_ids, ID_CHUNK):
        statement = select(sighting.candidate_id, sighting.source, sighting.first_seen, sighting.last_seen).where(
            sighting.candidate_id.in_(chunk),
            sighting.source.in_(list(sources)),
            sighting.first_seen <= last_seen,
            sighting.last_seen >= first_seen,
        )
        for candidate_id, source, first, last in session.connection().execute(statement):
            spans.setdefault(candidate_id, []).append(Span(source, first, last))
    return spans


def insert_candidates(session: Session, *, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert candidate rows (column values) in one go; their ids, in order."""
    return _insert_many(session, CANDIDATES, rows)


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


def extend_sighting(
    session: Session,
    *,
    source: str,
    track_key: str,
    last_seen: datetime,
    frames_seen: int,
    score: float,
) -> int | None:
    """Let a recorded sighting grow: a later ``last_seen`` (and its dwell), more frames, a better score.

    A live stream records a track once the rules accept it while the object is still in view, then keeps seeing it:
    the sighting keeps its key, candidate and evidence, and only its span grows (never shrinks). Its candidate's
    ``last_seen`` and ``score`` follow while its status is one of :data:`ATTACHABLE_STATUSES` (a merged candidate
    stays as it is); each is one atomic update that only ever moves forward. Does not commit.

    Returns:
        The sighting's candidate id, or ``None`` when the sighting is not stored or has no candidate.
    """
    sighting = SIGHTINGS.c
    row = (
        session.connection()
        .execute(
            select(sighting.id, sighting.first_seen, sighting.last_seen, sighting.candidate_id).where(
                sighting.source == source, sighting.track_key == track_key
            )
        )
        .first()
    )
    if row is None:
        return None
    sighting_id, first_seen, stored_last_seen, candidate_id = row
    if last_seen > stored_last_seen:
        session.connection().execute(
            update(SIGHTINGS)
            .where(sighting.id == sighting_id)
            .values(
                last_seen=last_seen,
                dwell_s=(last_seen - first_seen).total_seconds(),
                frames_seen=_at_least(sighting.frames_seen, frames_seen),
                score=_at_least(sighting.score, score),
            )
        )
    if candidate_id is not None:
        candidate = CANDIDATES.c
        session.connection().execute(
            update(CANDIDATES)
            .where(candidate.id == candidate_id, candidate.status.in_(ATTACHABLE_STATUSES))
            .values(
                last_seen=_at_least(candidate.last_seen, literal(last_seen, candidate.last_seen.type)),
                score=_at_least(candidate.score, score),
            )
        )
    return int(candidate_id) if candidate_id is not None else None


def _at_least(current: ColumnElement[Any], value: Any) -> ColumnElement[Any]:
    """``value`` where it is larger than the column's, else the column's (portable GREATEST)."""
    return case((current < value, value), else_=current)


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
    return _summaries(session, session.execute(statement).mappings().all())


def candidate_summaries(session: Session, *, candidate_ids: Sequence[int]) -> list[CandidateSummary]:
    """The candidates ``candidate_ids`` that exist, by id, each with its newest evidence file of each kind."""
    summaries: list[CandidateSummary] = []
    for chunk in _chunks(sorted(candidate_ids), ID_CHUNK):
        statement = select(CANDIDATES).where(CANDIDATES.c.id.in_(chunk)).order_by(CANDIDATES.c.id)
        summaries += _summaries(session, session.execute(statement).mappings().all())
    return summaries


def _summaries(session: Session, rows: Sequence[RowMapping]) -> list[CandidateSummary]:
    """Candidate rows (all columns) as summaries, in the same order, with their newest evidence."""
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
