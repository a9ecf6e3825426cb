"""Claiming due outbox rows and recording what became of them: the sender's only SQL.

A claim is a lease, not a held lock: one short statement marks up to ``limit`` due rows as taken (their
``attempts`` goes up by one and ``next_attempt_at`` moves to the end of the lease) and returns them; the sender
then talks to the network with no transaction open. On PostgreSQL the rows are picked with
``FOR UPDATE SKIP LOCKED``, so concurrent senders take disjoint rows without waiting on each other; on SQLite the
single ``UPDATE … RETURNING`` statement is atomic on its own. A sender that dies mid-send leaves its rows pending
with a lease that runs out, after which another sender takes them again (at-least-once).

The outcome is written only if the row still carries the claim (same ``attempts``, still pending): when a lease
ran out and another sender re-claimed the row, the late answer of the first is dropped rather than overwriting
the newer claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.db.models.posting import OutboxMessage

ERROR_LIMIT = 2000  # last_error is String(2048)


@dataclass(frozen=True)
class Claim:
    """A row this sender holds until ``lease_until``.

    Attributes:
        id: Outbox row id.
        case_id: The case it posts.
        target: ``http`` or ``mqtt``.
        idempotency_key: The receiver's deduplication key.
        payload: The stored snapshot.
        attempts: The attempt number this claim is (1 for the first); also the claim's token.
    """

    id: int
    case_id: int
    target: str
    idempotency_key: str
    payload: dict[str, Any]
    attempts: int


def claim_due(session: Session, *, now: datetime, targets: Sequence[str], limit: int, lease_s: float) -> list[Claim]:
    """Take up to ``limit`` pending rows of ``targets`` due at ``now``, oldest due first (caller commits).

    Args:
        session: A session in a transaction of its own; commit right after.
        now: The current time (aware).
        targets: Targets this sender can deliver to.
        limit: Rows to take at most.
        lease_s: How long the claim holds before another sender may take the row again.
    """
    if not targets:
        return []
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.state == "pending",
            OutboxMessage.next_attempt_at <= now,
            OutboxMessage.target.in_(targets),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    statement = (
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(due.scalar_subquery()),
            OutboxMessage.state == "pending",
            OutboxMessage.next_attempt_at <= now,
        )
        .values(attempts=OutboxMessage.attempts + 1, next_attempt_at=now + timedelta(seconds=lease_s))
        .returning(
            OutboxMessage.id,
            OutboxMessage.case_id,
            OutboxMessage.target,
            OutboxMessage.idempotency_key,
            OutboxMessage.payload,
            OutboxMessage.attempts,
        )
        .execution_options(synchronize_session=False)
    )
    claims = [Claim(*row) for row in session.execute(statement)]
    return sorted(claims, key=lambda claim: claim.id)


def mark_sent(session: Session, *, claim: Claim, now: datetime) -> bool:
    """Record that the receiver acknowledged ``claim``; ``False`` if the claim was lost to another sender."""
    return _record(session, claim, state="sent", sent_at=now, last_error=None)


def mark_retry(session: Session, *, claim: Claim, error: str, retry_at: datetime) -> bool:
    """Record a failed attempt to be retried at ``retry_at``; ``False`` if the claim was lost."""
    return _record(session, claim, next_attempt_at=retry_at, last_error=error[:ERROR_LIMIT])


def mark_dead(session: Session, *, claim: Claim, error: str) -> bool:
    """Dead-letter ``claim`` with ``error``; ``False`` if the claim was lost."""
    return _record(session, claim, state="dead", last_error=error[:ERROR_LIMIT])


def _record(session: Session, claim: Claim, **values: Any) -> bool:
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == claim.id,
            OutboxMessage.attempts == claim.attempts,
            OutboxMessage.state == "pending",
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)
