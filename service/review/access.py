"""Who may act on a candidate, row locks that work on both databases, and the audit log writer.

Every decision follows one pattern: lock the rows (:func:`lock_candidates`), read them fresh, check, then write.
All checks run before the first real write, so a refused action leaves nothing behind in the session and a bulk
action can go on with the next item.

Locking. On PostgreSQL ``SELECT … FOR UPDATE`` (rows in id order, so two actions never deadlock). SQLite has no row
locks: a no-op ``UPDATE`` of the rows takes the database's single write lock instead, which every other writer then
waits for (the engine's busy timeout), and reads after it see the newest data.

Claims. A reviewer may decide an item nobody holds, an item they hold, or one whose lease ran out; an item another
reviewer holds is a :class:`~service.errors.Conflict` unless the user is an admin (admins override claims).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.db.models.review import ReviewAction
from service.db.models.users import User
from service.db.models.violations import Candidate
from service.errors import Conflict, Forbidden, NotFound

ADMIN = "admin"


def is_postgres(session: Session) -> bool:
    """Whether ``session`` talks to PostgreSQL (else SQLite)."""
    return session.get_bind().dialect.name == "postgresql"


def active_user(session: Session, user_id: int) -> User:
    """The user ``user_id``.

    Raises:
        NotFound: No such user.
        Forbidden: The user is deactivated.
    """
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    if not user.active:
        raise Forbidden(f"user {user.username} is deactivated")
    return user


def lock_candidates(session: Session, ids: Iterable[int]) -> dict[int, Candidate]:
    """Lock the candidates ``ids`` for the rest of the transaction and return them freshly read.

    Raises:
        NotFound: One of them does not exist (the first missing id is named).
    """
    wanted = sorted(set(ids))
    if not is_postgres(session):
        session.execute(
            update(Candidate)
            .where(Candidate.id.in_(wanted))
            .values(updated_at=Candidate.updated_at)
            .execution_options(synchronize_session=False)
        )
    query = select(Candidate).where(Candidate.id.in_(wanted)).order_by(Candidate.id)
    if is_postgres(session):
        query = query.with_for_update()
    rows = {row.id: row for row in session.scalars(query.execution_options(populate_existing=True))}
    for candidate_id in wanted:
        if candidate_id not in rows:
            raise NotFound(f"candidate {candidate_id} does not exist")
    return rows


def check_may_act(candidate: Candidate, user: User, *, now: datetime) -> None:
    """Refuse when another reviewer holds a live claim on ``candidate`` (admins may act anyway).

    Raises:
        Conflict: Claimed by someone else until ``claim_expires_at``.
    """
    if user.role == ADMIN or claim_holder(candidate, now=now) in (None, user.id):
        return
    raise Conflict(
        f"candidate {candidate.id} is claimed by user {candidate.claimed_by_id} until "
        f"{candidate.claim_expires_at:%Y-%m-%d %H:%M:%S} UTC"
    )


def check_status(candidate: Candidate, *allowed: str) -> None:
    """Refuse when ``candidate`` is not in one of the ``allowed`` statuses.

    Raises:
        Conflict: It was already decided (confirmed, rejected, merged …); the message says how.
    """
    if candidate.status in allowed:
        return
    how = f"merged into candidate {candidate.merged_into_id}" if candidate.status == "merged" else candidate.status
    raise Conflict(f"candidate {candidate.id} is already {how}")


def claim_holder(candidate: Candidate, *, now: datetime) -> int | None:
    """The user holding a live claim on ``candidate`` at ``now``, or ``None``."""
    if candidate.claimed_by_id is None or candidate.claim_expires_at is None or candidate.claim_expires_at <= now:
        return None
    return candidate.claimed_by_id


def record_action(
    session: Session,
    *,
    candidate_id: int,
    user_id: int | None,
    action: str,
    now: datetime,
    reason: str | None = None,
    note: str | None = None,
    details: dict[str, Any] | None = None,
) -> ReviewAction:
    """Add one audit-log row (flushed, so it has its id)."""
    row = ReviewAction(
        candidate_id=candidate_id,
        user_id=user_id,
        action=action,
        reason=reason,
        note=note,
        details=details,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def history(session: Session, *, candidate_id: int) -> list[ReviewAction]:
    """The audit log of one candidate, oldest first (claims and releases included)."""
    return list(
        session.scalars(
            select(ReviewAction)
            .where(ReviewAction.candidate_id == candidate_id)
            .order_by(ReviewAction.created_at, ReviewAction.id)
        )
    )
