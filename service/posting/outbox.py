"""Data access for the posting outbox: enqueue in the caller's transaction, read posting state, retry dead letters.

The confirmation of a case and its outbox rows commit together (the transactional-outbox pattern), so a case is
never confirmed without a message to post, nor a message posted for a case that was rolled back. The sender
(:mod:`service.posting.sender`) delivers the rows later. None of these functions commits: the caller's request or
work unit does, once.

Example::

    with session_factory(engine)() as session:
        case = Case(candidate_id=candidate.id, ...)
        session.add(case)
        enqueue_case(session, case=case, targets=("http", "mqtt"))
        session.commit()
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.base import utcnow
from service.db.models.cases import Case, CaseEvent
from service.db.models.posting import OutboxMessage
from service.db.models.violations import Candidate, Evidence
from service.posting.errors import MessageNotDead, MessageNotFound, PayloadError
from service.posting.payload import case_event_payload, case_key, case_payload, event_key
from vision.taxonomy import Taxonomy

TARGETS = ("http", "mqtt")


@dataclass(frozen=True)
class MessageState:
    """One outbox message as the API and the CLI show it.

    Attributes:
        id: The outbox row id (what :func:`retry_dead` takes).
        case_id: The case it belongs to.
        target: ``http`` or ``mqtt``.
        idempotency_key: Sent as the ``Idempotency-Key`` header (HTTP) and as ``external_id`` in the JSON.
        kind: ``case`` or ``case_event``.
        state: ``pending``, ``sent`` or ``dead``.
        attempts: Sending attempts started so far.
        next_attempt_at: When a pending message is due next.
        last_error: The last failure, if any.
        sent_at: When the receiver acknowledged it.
        created_at: When it was enqueued.
    """

    id: int
    case_id: int
    target: str
    idempotency_key: str
    kind: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: OutboxMessage) -> MessageState:
        """Convert a row."""
        kind = "case_event" if row.payload.get("format", "").startswith("xiuhua.case-event") else "case"
        return cls(
            id=row.id,
            case_id=row.case_id,
            target=row.target,
            idempotency_key=row.idempotency_key,
            kind=kind,
            state=row.state,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
            last_error=row.last_error,
            sent_at=row.sent_at,
            created_at=row.created_at,
        )


@dataclass(frozen=True)
class PostingState:
    """Where the posting of one case stands.

    Attributes:
        case_id: The case.
        state: ``none`` (nothing enqueued), ``dead`` (a message gave up: needs an admin), ``pending`` (something
            still to send) or ``sent`` (everything acknowledged); the first that applies.
        messages: Every message of the case, oldest first.
    """

    case_id: int
    state: str
    messages: tuple[MessageState, ...]


def enqueue_case(
    session: Session, *, case: Case, targets: Sequence[str] = ("http",), taxonomy: Taxonomy | None = None
) -> list[OutboxMessage]:
    """Add the outbox rows that post ``case`` to ``targets``, in the caller's transaction (no commit).

    Idempotent: a target that already has the case's message gets no second one (its row is returned).

    Args:
        session: The session confirming the case; flushed here so the case has its id.
        case: The case (added to ``session``).
        targets: ``http`` and/or ``mqtt``.
        taxonomy: Codes and names; the repository's taxonomy by default.

    Returns:
        One row per target, in ``targets`` order.

    Raises:
        ValueError: An unknown target.
        PayloadError: The case cannot be described (unknown event code, missing candidate).
    """
    _check_targets(targets)
    session.flush()
    candidate = session.get(Candidate, case.candidate_id)
    if candidate is None:
        raise PayloadError(f"case {case.id}: candidate {case.candidate_id} does not exist")
    evidence = session.scalars(
        select(Evidence).where(Evidence.candidate_id == candidate.id).order_by(Evidence.taken_at, Evidence.id)
    ).all()
    payload = case_payload(case=case, candidate=candidate, evidence=evidence, taxonomy=taxonomy)
    return _add_messages(session, case_id=case.id, key=case_key(case), payload=payload, targets=targets)


def enqueue_case_event(
    session: Session, *, event: CaseEvent, targets: Sequence[str] = ("mqtt",)
) -> list[OutboxMessage]:
    """Add the outbox rows that announce a stage event (MQTT by default), in the caller's transaction.

    Idempotent like :func:`enqueue_case`. The MQTT topic is ``<prefix>/cases/<case id>/<stage>``.

    Raises:
        ValueError: An unknown target.
        PayloadError: The event's case does not exist.
    """
    _check_targets(targets)
    session.flush()
    case = session.get(Case, event.case_id)
    if case is None:
        raise PayloadError(f"case event {event.id}: case {event.case_id} does not exist")
    payload = case_event_payload(event=event, case=case)
    return _add_messages(
        session, case_id=case.id, key=event_key(event=event, case=case), payload=payload, targets=targets
    )


def posting_state(session: Session, *, case_id: int) -> PostingState:
    """Where posting of case ``case_id`` stands (see :class:`PostingState`)."""
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.case_id == case_id).order_by(OutboxMessage.id)
    ).all()
    messages = tuple(MessageState.of(row) for row in rows)
    states = {message.state for message in messages}
    overall = next((s for s in ("dead", "pending") if s in states), "sent" if messages else "none")
    return PostingState(case_id=case_id, state=overall, messages=messages)


def dead_letters(session: Session, *, limit: int = 100, offset: int = 0) -> list[MessageState]:
    """Dead-lettered messages, newest first."""
    rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.state == "dead")
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [MessageState.of(row) for row in rows]


def retry_dead(session: Session, *, message_id: int, now: datetime | None = None) -> MessageState:
    """Put a dead letter back in the queue with a fresh attempt budget, due at ``now`` (no commit).

    ``last_error`` is kept until the next attempt replaces it, so the admin still sees why it died.

    Raises:
        MessageNotFound: No message ``message_id``.
        MessageNotDead: The message is pending or sent.
    """
    row = session.get(OutboxMessage, message_id, with_for_update=True)
    if row is None:
        raise MessageNotFound(f"outbox message {message_id} does not exist")
    if row.state != "dead":
        raise MessageNotDead(f"outbox message {message_id} is {row.state}, not dead")
    row.state = "pending"
    row.attempts = 0
    row.next_attempt_at = now or utcnow()
    session.flush()
    return MessageState.of(row)


def _add_messages(
    session: Session, *, case_id: int, key: str, payload: dict[str, object], targets: Sequence[str]
) -> list[OutboxMessage]:
    existing = {
        row.target: row
        for row in session.scalars(
            select(OutboxMessage).where(OutboxMessage.idempotency_key == key, OutboxMessage.target.in_(targets))
        )
    }
    rows = []
    for target in targets:
        row = existing.get(target)
        if row is None:
            row = OutboxMessage(case_id=case_id, target=target, idempotency_key=key, payload=payload, state="pending")
            session.add(row)
            existing[target] = row
        rows.append(row)
    session.flush()
    return rows


def _check_targets(targets: Sequence[str]) -> None:
    unknown = [target for target in targets if target not in TARGETS]
    if unknown or not targets:
        raise ValueError(f"targets: {list(targets)!r}; each must be one of {', '.join(TARGETS)}")
