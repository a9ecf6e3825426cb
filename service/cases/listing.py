"""Reading cases: one case with its stage events and posting state, or a filtered page of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, not_, select
from sqlalchemy.orm import Session

from service.cases.stages import stage_key
from service.db.models.cases import STAGE_NAMES_ZH, Case, CaseEvent
from service.db.models.posting import OutboxMessage
from service.errors import Invalid, NotFound
from service.posting.outbox import PostingState, posting_state

POSTING_STATES = ("none", "pending", "sent", "dead")
MAX_PAGE = 200


@dataclass(frozen=True)
class CaseEventView:
    """One stage the case reached.

    Attributes:
        id: The event row id.
        stage: Stage key.
        stage_name: Its Chinese name.
        at: When it was reached.
        payload: What the platform's callback carried (or who confirmed, for ``accepted``).
    """

    id: int
    stage: str
    stage_name: str
    at: datetime
    payload: dict[str, Any] | None


@dataclass(frozen=True)
class CaseView:
    """A case as the API and the pages show it.

    Attributes:
        id: Our case id.
        candidate_id: The candidate it came from.
        event_code: National event code (GB/T 30428.2 minor class).
        violation_type: Our violation type.
        description: Text for the platform.
        address: Street address.
        district: District.
        street: Street office.
        grid: Grid cell.
        lat: WGS-84 latitude.
        lon: WGS-84 longitude.
        stage: Current stage key.
        stage_name: Its Chinese name.
        platform_case_id: The platform's number, once it told us.
        confirmed_by_id: The reviewer who confirmed it.
        created_at: When it was confirmed.
        updated_at: Last change.
        posting: Where posting to the platform (and MQTT) stands.
        events: Stage events, in the order they were recorded.
    """

    id: int
    candidate_id: int
    event_code: str
    violation_type: str
    description: str
    address: str | None
    district: str | None
    street: str | None
    grid: str | None
    lat: float
    lon: float
    stage: str
    stage_name: str
    platform_case_id: str | None
    confirmed_by_id: int | None
    created_at: datetime
    updated_at: datetime
    posting: PostingState
    events: tuple[CaseEventView, ...]


@dataclass(frozen=True)
class CasesPage:
    """A page of cases and how many match in all.

    Attributes:
        items: The cases on this page, newest first.
        count: How many cases match the filters.
    """

    items: tuple[CaseView, ...]
    count: int


def get_case(session: Session, *, case_id: int) -> CaseView:
    """One case with its events and posting state.

    Raises:
        NotFound: No such case.
    """
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    return _views(session, [case])[0]


def list_cases(
    session: Session,
    *,
    stage: str | None = None,
    posting: str | None = None,
    violation_type: str | None = None,
    district: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> CasesPage:
    """Cases matching the filters, newest first.

    Args:
        session: Any session.
        stage: Only cases at this stage (key or Chinese name).
        posting: Only cases whose posting state is ``none``, ``pending``, ``sent`` or ``dead`` (see
            :class:`service.posting.outbox.PostingState`).
        violation_type: Only this violation type.
        district: Only this district.
        limit: Page size, 1 to 200.
        offset: Cases to skip.

    Raises:
        Invalid: An unknown stage or posting state, or a page size out of range.
    """
    if not 0 < limit <= MAX_PAGE:
        raise Invalid(f"{limit} is not in 1..{MAX_PAGE}", field="limit")
    if offset < 0:
        raise Invalid(f"{offset} is negative", field="offset")
    conditions: list[ColumnElement[bool]] = []
    if stage is not None:
        conditions.append(Case.stage == stage_key(stage))
    if posting is not None:
        conditions.append(_posting_condition(posting))
    if violation_type is not None:
        conditions.append(Case.violation_type == violation_type)
    if district is not None:
        conditions.append(Case.district == district)
    count = session.scalar(select(func.count()).select_from(Case).where(*conditions)) or 0
    cases = session.scalars(
        select(Case).where(*conditions).order_by(Case.created_at.desc(), Case.id.desc()).limit(limit).offset(offset)
    ).all()
    return CasesPage(items=tuple(_views(session, list(cases))), count=int(count))


def _posting_condition(posting: str) -> ColumnElement[bool]:
    """Same precedence as :func:`service.posting.outbox.posting_state`: dead, then pending, then sent."""
    if posting not in POSTING_STATES:
        raise Invalid(f"{posting!r} is not one of {', '.join(POSTING_STATES)}", field="posting")

    def has(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
        return exists().where(OutboxMessage.case_id == Case.id, *conditions)

    dead, pending = has(OutboxMessage.state == "dead"), has(OutboxMessage.state == "pending")
    if posting == "dead":
        return dead
    if posting == "pending":
        return and_(pending, not_(dead))
    if posting == "sent":
        return and_(has(), not_(has(OutboxMessage.state != "sent")))
    return not_(has())


def _views(session: Session, cases: list[Case]) -> list[CaseView]:
    events: dict[int, list[CaseEventView]] = {}
    if cases:
        query = select(CaseEvent).where(CaseEvent.case_id.in_([c.id for c in cases])).order_by(CaseEvent.id)
        for event in session.scalars(query):
            events.setdefault(event.case_id, []).append(
                CaseEventView(
                    id=event.id,
                    stage=event.stage,
                    stage_name=STAGE_NAMES_ZH.get(event.stage, event.stage),
                    at=event.at,
                    payload=event.payload,
                )
            )
    return [
        CaseView(
            id=case.id,
            candidate_id=case.candidate_id,
            event_code=case.event_code,
            violation_type=case.violation_type,
            description=case.description,
            address=case.address,
            district=case.district,
            street=case.street,
            grid=case.grid,
            lat=case.lat,
            lon=case.lon,
            stage=case.stage,
            stage_name=STAGE_NAMES_ZH.get(case.stage, case.stage),
            platform_case_id=case.platform_case_id,
            confirmed_by_id=case.confirmed_by_id,
            created_at=case.created_at,
            updated_at=case.updated_at,
            posting=posting_state(session, case_id=case.id),
            events=tuple(events.get(case.id, ())),
        )
        for case in cases
    ]
