"""The city platform's callback: a case moved to a stage; record it once, in order.

A callback names the case by our id or by the platform's own case number, the stage (key or Chinese name), when
it happened, and whatever else the platform sent (kept as the event's ``payload``). A repeated callback for a
stage the case already has is acknowledged without change (platforms retry), even when it arrives late; a stage
that would go backwards, or follow a final one, is refused.

The case row is locked first (``FOR UPDATE`` on PostgreSQL, the write lock on SQLite), so two deliveries of the
same callback at the same moment still record one event. Nothing commits here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.cases.stages import check_transition, stage_key
from service.db.base import utcnow
from service.db.models.cases import Case, CaseEvent
from service.errors import Conflict, Invalid, NotFound
from service.posting.outbox import enqueue_case_event

PLATFORM_ID_LIMIT = 128  # Case.platform_case_id is String(128)


@dataclass(frozen=True)
class CallbackResult:
    """What a callback did.

    Attributes:
        case: The case (its ``stage`` is the newest).
        event: The stage event recorded now, or the one recorded earlier for a repeat.
        applied: ``False`` when the callback repeated a stage the case already had.
    """

    case: Case
    event: CaseEvent
    applied: bool


def apply_callback(
    session: Session,
    *,
    stage: str,
    case_id: int | None = None,
    platform_case_id: str | None = None,
    at: datetime | None = None,
    payload: dict[str, Any] | None = None,
    announce: Sequence[str] = (),
    now: datetime | None = None,
) -> CallbackResult:
    """Record that a case reached ``stage`` (caller commits).

    Args:
        session: The request's session.
        stage: A stage key (``dispatched``) or its Chinese name (``派遣``).
        case_id: Our case id. With ``platform_case_id`` too, the platform's number is stored on the case (the 立案
            callback usually brings it).
        platform_case_id: The platform's case number; alone, it finds the case.
        at: When the stage was reached (timezone-aware); ``None``: now.
        payload: The platform's callback body, kept with the event.
        announce: Outbox targets to announce a new event to (e.g. ``("mqtt",)``); empty: none.
        now: The current time; ``None``: the clock.

    Raises:
        Invalid: Unknown stage, neither id given, a naive ``at``, a payload that is not an object, or a platform
            number too long.
        NotFound: No such case.
        Conflict: The stage would go backwards or follow a final stage, or the case already has another platform
            number.
    """
    key = stage_key(stage)
    now = now or utcnow()
    at = at or now
    if at.tzinfo is None:
        raise Invalid("give a timezone-aware time", field="at")
    if payload is not None and not isinstance(payload, dict):
        raise Invalid(f"expected an object, got {type(payload).__name__}", field="payload")
    if platform_case_id is not None and not 0 < len(platform_case_id) <= PLATFORM_ID_LIMIT:
        raise Invalid(f"expected 1 to {PLATFORM_ID_LIMIT} characters", field="platform_case_id")
    case = _locked_case(session, case_id=case_id, platform_case_id=platform_case_id)
    if platform_case_id is not None and case.platform_case_id != platform_case_id:
        if case.platform_case_id is not None:
            raise Conflict(f"case {case.id} is platform case {case.platform_case_id!r}, not {platform_case_id!r}")
        case.platform_case_id = platform_case_id
        session.flush()
    earlier = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.stage == key).order_by(CaseEvent.id).limit(1)
    ).first()
    if earlier is not None:
        return CallbackResult(case=case, event=earlier, applied=False)
    if key == case.stage:  # a stage set without an event (not by this service): record the event, nothing moves
        event = _add_event(session, case, key, at, payload)
        return CallbackResult(case=case, event=event, applied=True)
    check_transition(case.stage, key, case_id=case.id)
    case.stage = key
    case.updated_at = now
    event = _add_event(session, case, key, at, payload)
    if announce:
        enqueue_case_event(session, event=event, targets=announce)
    return CallbackResult(case=case, event=event, applied=True)


def _locked_case(session: Session, *, case_id: int | None, platform_case_id: str | None) -> Case:
    if case_id is None and platform_case_id is None:
        raise Invalid("give the case id or the platform's case id", field="case_id")
    condition = Case.id == case_id if case_id is not None else Case.platform_case_id == platform_case_id
    postgres = session.get_bind().dialect.name == "postgresql"
    if not postgres:  # SQLite: take the write lock so a concurrent delivery waits for this one
        session.execute(
            update(Case)
            .where(condition)
            .values(updated_at=Case.updated_at)
            .execution_options(synchronize_session=False)
        )
    query = select(Case).where(condition).order_by(Case.id).limit(2)
    if postgres:
        query = query.with_for_update()
    found = list(session.scalars(query.execution_options(populate_existing=True)))
    if not found:
        which = f"case {case_id}" if case_id is not None else f"platform case {platform_case_id!r}"
        raise NotFound(f"{which} does not exist")
    if len(found) > 1:
        raise Conflict(f"platform case {platform_case_id!r} names several cases ({found[0].id}, {found[1].id})")
    return found[0]


def _add_event(session: Session, case: Case, stage: str, at: datetime, payload: dict[str, Any] | None) -> CaseEvent:
    event = CaseEvent(case_id=case.id, stage=stage, at=at, payload=payload)
    session.add(event)
    session.flush()
    return event
