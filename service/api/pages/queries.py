"""Reads the review pages need beyond the API's: cameras, reviewers' names, queue neighbours, nearby candidates."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from service.db.models import Camera, Candidate, User
from service.review import QueueFilter
from vision.geo import LocalFrame

# The queue orders of :class:`QueueFilter` as sort keys: (column, descending).
SortKeys = tuple[tuple[InstrumentedAttribute[object], bool], ...]
SORT_KEYS: dict[str, SortKeys] = {
    "oldest": ((Candidate.first_seen, False), (Candidate.id, False)),
    "newest": ((Candidate.last_seen, True), (Candidate.id, True)),
    "score": ((Candidate.score, True), (Candidate.first_seen, False), (Candidate.id, False)),
}


def cameras(session: Session) -> list[Camera]:
    """Every camera, by key (for the filter form and the item page)."""
    return list(session.scalars(select(Camera).order_by(Camera.key)))


def usernames(session: Session, *, user_ids: Sequence[int | None]) -> dict[int, str]:
    """The names of the users ``user_ids`` (missing ones left out)."""
    wanted = sorted({user_id for user_id in user_ids if user_id is not None})
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.username).where(User.id.in_(wanted)))
    return {user_id: username for user_id, username in rows}


def neighbours(session: Session, *, candidate: Candidate, filters: QueueFilter) -> tuple[int | None, int | None]:
    """The open candidates just before and just after ``candidate`` in the filter's queue order.

    ``candidate`` itself need not match the filter (or be open): its sort values place it in the order.
    """
    keys = SORT_KEYS[filters.order]
    values = [getattr(candidate, column.key) for column, _ in keys]
    base = select(Candidate.id).where(Candidate.status == "open", Candidate.id != candidate.id, *filters.conditions())
    found: list[int | None] = []
    for forward in (False, True):
        order = [column.desc() if descending == forward else column.asc() for column, descending in keys]
        query = base.where(_beyond(keys, values, forward=forward)).order_by(*order).limit(1)
        found.append(session.scalar(query))
    return found[0], found[1]


def _beyond(keys: SortKeys, values: Sequence[object], *, forward: bool) -> ColumnElement[bool]:
    """Rows after (``forward``) or before the position ``values`` in the order ``keys`` (lexicographic)."""
    (column, descending), *rest = keys
    value = values[0]
    later = column < value if descending == forward else column > value
    if not rest:
        return later
    return or_(later, and_(column == value, _beyond(tuple(rest), values[1:], forward=forward)))


def nearby(session: Session, *, candidate: Candidate, radius_m: float, limit: int = 40) -> list[Candidate]:
    """Other candidates (not merged away) within a square of ``2 * radius_m`` around ``candidate``, nearest first."""
    frame = LocalFrame(candidate.lat, candidate.lon)
    south, west = frame.to_geo(-radius_m, -radius_m)
    north, east = frame.to_geo(radius_m, radius_m)
    distance = func.abs(Candidate.lat - candidate.lat) + func.abs(Candidate.lon - candidate.lon)
    query = (
        select(Candidate)
        .where(
            Candidate.id != candidate.id,
            Candidate.status != "merged",
            Candidate.lat.between(south, north),
            Candidate.lon.between(west, east),
        )
        .order_by(distance, Candidate.id)
        .limit(limit)
    )
    return list(session.scalars(query))
