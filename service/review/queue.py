"""The review queue: a reviewer claims one open candidate at a time under a lease that runs out.

A claim is a lease on ``Candidate.claimed_by_id`` / ``claim_expires_at``. Nobody else gets the item until the lease
ends; a reviewer who walks away loses it when it runs out and it returns to the queue. A reviewer holds at most one
item: claiming again (a page reload) gives back the item already held, with a fresh lease.

Taking an item is safe under concurrency on both databases:

- PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` picks a row no other transaction is taking, so concurrent
  reviewers get different items without waiting on each other.
- SQLite: a conditional ``UPDATE … WHERE id = ? AND status = 'open' AND (unclaimed OR lease over)`` is atomic; a
  reviewer who loses the race (no row changed) tries the next item.

None of these functions commits; commit right after them so the lease (and on PostgreSQL the row locks) take
effect for others.

Example::

    candidate = claim_next(session, user_id=reviewer.id, filters=QueueFilter(violation_types=("street_occupation",)))
    session.commit()
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from service.db.base import utcnow
from service.db.models.users import User
from service.db.models.violations import Candidate
from service.errors import Conflict, Invalid
from service.review.access import ADMIN, active_user, claim_holder, is_postgres, lock_candidates, record_action

DEFAULT_LEASE_S = 300
MAX_LEASE_S = 24 * 3600
ORDERS = ("oldest", "newest", "score")
_BATCH = 8  # SQLite: ids tried per round when other reviewers win the race for the first ones
_ROUNDS = 50


@dataclass(frozen=True)
class QueueFilter:
    """Which open candidates a reviewer wants, and in which order.

    Attributes:
        violation_types: Only these violation types (empty: all).
        class_names: Only these detector classes (empty: all).
        camera_ids: Only candidates of these cameras (empty: all).
        area: ``(min_lat, min_lon, max_lat, max_lon)``, WGS-84 degrees; ``None``: anywhere.
        seen_after: Only candidates last seen at or after this time.
        seen_before: Only candidates first seen before this time.
        min_score: Only candidates scored at least this.
        order: ``oldest`` (first seen first: nothing waits forever), ``newest`` (last seen first) or ``score``
            (highest score first).

    Raises:
        Invalid: An unknown order, an area with min > max, or naive times.
    """

    violation_types: tuple[str, ...] = ()
    class_names: tuple[str, ...] = ()
    camera_ids: tuple[int, ...] = ()
    area: tuple[float, float, float, float] | None = None
    seen_after: datetime | None = None
    seen_before: datetime | None = None
    min_score: float | None = None
    order: str = "oldest"

    def __post_init__(self) -> None:
        if self.order not in ORDERS:
            raise Invalid(f"{self.order!r} is not one of {', '.join(ORDERS)}", field="order")
        if self.area is not None:
            if len(self.area) != 4:
                raise Invalid("expected (min_lat, min_lon, max_lat, max_lon)", field="area")
            min_lat, min_lon, max_lat, max_lon = self.area
            if min_lat > max_lat or min_lon > max_lon:
                raise Invalid(f"{self.area}: min_lat/min_lon must not exceed max_lat/max_lon", field="area")
        for name in ("seen_after", "seen_before"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise Invalid("give a timezone-aware time", field=name)

    def conditions(self) -> list[ColumnElement[bool]]:
        """SQL conditions on :class:`Candidate` for this filter (status and claims not included)."""
        conditions: list[ColumnElement[bool]] = []
        if self.violation_types:
            conditions.append(Candidate.violation_type.in_(self.violation_types))
        if self.class_names:
            conditions.append(Candidate.class_name.in_(self.class_names))
        if self.camera_ids:
            conditions.append(Candidate.camera_id.in_(self.camera_ids))
        if self.area is not None:
            min_lat, min_lon, max_lat, max_lon = self.area
            conditions += [Candidate.lat.between(min_lat, max_lat), Candidate.lon.between(min_lon, max_lon)]
        if self.seen_after is not None:
            conditions.append(Candidate.last_seen >= self.seen_after)
        if self.seen_before is not None:
            conditions.append(Candidate.first_seen < self.seen_before)
        if self.min_score is not None:
            conditions.append(Candidate.score >= self.min_score)
        return conditions

    def ordered(self, query: Select[Any]) -> Select[Any]:
        """``query`` in this filter's order (ties broken by id, so the order is total)."""
        if self.order == "newest":
            return query.order_by(Candidate.last_seen.desc(), Candidate.id.desc())
        if self.order == "score":
            return query.order_by(Candidate.score.desc(), Candidate.first_seen, Candidate.id)
        return query.order_by(Candidate.first_seen, Candidate.id)


def claim_next(
    session: Session,
    *,
    user_id: int,
    lease_s: float = DEFAULT_LEASE_S,
    filters: QueueFilter | None = None,
    now: datetime | None = None,
) -> Candidate | None:
    """Give ``user_id`` the next open candidate under a lease of ``lease_s`` seconds (caller commits).

    The item the user already holds comes back first (lease renewed), so a reload never leaks a claim. If it does
    not match ``filters`` (the reviewer changed filters) it is released and a matching one is claimed: a reviewer
    never holds two items. Otherwise the first open candidate in the filter's order that nobody holds, or whose
    lease ran out, is claimed; each new claim is written to the audit log.

    Args:
        session: The request's session.
        user_id: The reviewer.
        lease_s: Lease length in seconds (0 < lease_s <= one day).
        filters: Which candidates, in which order; ``None``: all, oldest first.
        now: The current time (tests pass it); ``None``: the clock.

    Returns:
        The claimed candidate, or ``None`` when nothing matching is available.

    Raises:
        NotFound: No such user.
        Forbidden: The user is deactivated.
        Invalid: ``lease_s`` out of range.
        Conflict: The queue stayed contended through every retry (try again).
    """
    filters = filters or QueueFilter()
    now = now or utcnow()
    expires = now + _lease(lease_s)
    user = active_user(session, user_id)
    if is_postgres(session):
        # One reviewer's concurrent claims (two tabs) queue up behind each other. NO KEY UPDATE: rows that merely
        # reference the user (audit rows, cases) are not held up by it.
        session.execute(select(User.id).where(User.id == user.id).with_for_update(key_share=True))
    held = current_claim(session, user_id=user.id, now=now)
    if held is not None and not _matches(session, held.id, filters):
        _clear_claim(session, held, user_id=user.id, now=now, why="filters changed")
        held = None
    for _ in range(_ROUNDS):
        if held is not None:  # held already, or the user's other tab (SQLite) just claimed one
            held.claim_expires_at = expires
            session.flush()
            return held
        ids = _available_ids(session, filters, now=now)
        if not ids:
            return None
        for candidate_id in ids:
            if _take(session, candidate_id=candidate_id, user_id=user.id, now=now, expires=expires):
                record_action(session, candidate_id=candidate_id, user_id=user.id, action="claim", now=now)
                return session.get(Candidate, candidate_id, populate_existing=True)
        held = current_claim(session, user_id=user.id, now=now)
    raise Conflict("the review queue is busy: every item tried was taken by someone else; try again")


def current_claim(session: Session, *, user_id: int, now: datetime | None = None) -> Candidate | None:
    """The open candidate ``user_id`` holds a live lease on at ``now``, or ``None``."""
    now = now or utcnow()
    return session.scalars(
        select(Candidate)
        .where(
            Candidate.claimed_by_id == user_id,
            Candidate.status == "open",
            Candidate.claim_expires_at > now,
        )
        .order_by(Candidate.id)
        .limit(1)
        .execution_options(populate_existing=True)
    ).first()


def release(session: Session, *, candidate_id: int, user_id: int, now: datetime | None = None) -> Candidate:
    """Give the claim on ``candidate_id`` back to the queue (caller commits).

    Releasing an item nobody holds (or whose lease ran out) changes nothing and is not an error. Admins may
    release anyone's claim.

    Raises:
        NotFound: No such candidate or user.
        Forbidden: The user is deactivated.
        Conflict: Another reviewer holds it (and the user is not an admin).
    """
    now = now or utcnow()
    user = active_user(session, user_id)
    candidate = lock_candidates(session, [candidate_id])[candidate_id]
    holder = claim_holder(candidate, now=now)
    if holder is None and candidate.claimed_by_id is None:
        return candidate
    if holder not in (None, user.id) and user.role != ADMIN:
        raise Conflict(f"candidate {candidate_id} is claimed by user {holder}, not by you")
    why = "released" if holder == user.id else ("lease ran out" if holder is None else "released by an admin")
    _clear_claim(session, candidate, user_id=user.id, now=now, why=why)
    return candidate


def extend(
    session: Session,
    *,
    candidate_id: int,
    user_id: int,
    lease_s: float = DEFAULT_LEASE_S,
    now: datetime | None = None,
) -> Candidate:
    """Renew the user's lease on ``candidate_id`` to ``now + lease_s`` (caller commits).

    A lease that already ran out can be renewed as long as nobody else took the item meanwhile and the user
    holds no other item.

    Raises:
        NotFound: No such candidate or user.
        Forbidden: The user is deactivated.
        Invalid: ``lease_s`` out of range.
        Conflict: The user does not hold it (never did, or someone else took it), it is no longer open, or the
            user holds another item now.
    """
    now = now or utcnow()
    expires = now + _lease(lease_s)
    user = active_user(session, user_id)
    candidate = lock_candidates(session, [candidate_id])[candidate_id]
    if candidate.status != "open":
        raise Conflict(f"candidate {candidate_id} is already {candidate.status}")
    if candidate.claimed_by_id != user.id:
        raise Conflict(f"candidate {candidate_id} is not claimed by you; claim it first")
    other = current_claim(session, user_id=user.id, now=now)
    if other is not None and other.id != candidate.id:
        raise Conflict(f"you hold candidate {other.id} now; your lease on {candidate_id} ran out")
    candidate.claim_expires_at = expires
    session.flush()
    return candidate


def queue_size(session: Session, *, filters: QueueFilter | None = None, now: datetime | None = None) -> int:
    """How many open candidates matching ``filters`` nobody holds at ``now`` (what is left to claim)."""
    filters = filters or QueueFilter()
    now = now or utcnow()
    query = select(func.count()).select_from(Candidate).where(_claimable(now), *filters.conditions())
    return int(session.scalar(query) or 0)


def _lease(lease_s: float) -> timedelta:
    if not 0 < lease_s <= MAX_LEASE_S:
        raise Invalid(f"{lease_s} is not in (0, {MAX_LEASE_S}] seconds", field="lease_s")
    return timedelta(seconds=lease_s)


def _claimable(now: datetime) -> ColumnElement[bool]:
    return and_(
        Candidate.status == "open",
        or_(Candidate.claimed_by_id.is_(None), Candidate.claim_expires_at.is_(None), Candidate.claim_expires_at <= now),
    )


def _matches(session: Session, candidate_id: int, filters: QueueFilter) -> bool:
    query = select(Candidate.id).where(Candidate.id == candidate_id, *filters.conditions())
    return session.scalar(query) is not None


def _available_ids(session: Session, filters: QueueFilter, *, now: datetime) -> list[int]:
    query = filters.ordered(select(Candidate.id).where(_claimable(now), *filters.conditions()))
    if is_postgres(session):
        # The row stays locked until commit: concurrent reviewers skip it instead of queueing behind it.
        return list(session.scalars(query.limit(1).with_for_update(skip_locked=True)))
    return list(session.scalars(query.limit(_BATCH)))


def _take(session: Session, *, candidate_id: int, user_id: int, now: datetime, expires: datetime) -> bool:
    """Claim one candidate if it is still free and the user holds nothing else; ``False`` if someone was faster."""
    others = aliased(Candidate)
    holds_another = exists().where(
        others.claimed_by_id == user_id,
        others.status == "open",
        others.claim_expires_at > now,
        others.id != candidate_id,
    )
    result = session.execute(
        update(Candidate)
        .where(Candidate.id == candidate_id, _claimable(now), ~holds_another)
        .values(claimed_by_id=user_id, claim_expires_at=expires)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def _clear_claim(session: Session, candidate: Candidate, *, user_id: int, now: datetime, why: str) -> None:
    """Drop the claim on ``candidate`` (locked or held by the user) and write ``release`` to the audit log."""
    details = {"claimed_by_id": candidate.claimed_by_id, "why": why}
    candidate.claimed_by_id = None
    candidate.claim_expires_at = None
    session.flush()
    record_action(session, candidate_id=candidate.id, user_id=user_id, action="release", now=now, details=details)
