"""Cases with their stages and posting state; the platform's stage callback; dead letters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.api.deps import AdminDep, ContextDep, SessionDep, TokenDep, UserDep
from service.api.schemas.cases import (
    CallbackIn,
    CallbackPublic,
    CaseEventPublic,
    CasePublic,
    CasesPublic,
    MessagePublic,
    MessagesPublic,
)
from service.api.schemas.common import error_responses
from service.cases import apply_callback, get_case, list_cases
from service.posting import outbox

router = APIRouter(prefix="/api", tags=["cases"], responses=error_responses(401, 422))


@router.get("/cases", response_model=CasesPublic)
def cases(
    user: UserDep,
    session: SessionDep,
    stage: Annotated[str | None, Query(description="Stage key (dispatched) or name (派遣).")] = None,
    posting: Annotated[str | None, Query(description="none, pending, sent or dead.")] = None,
    violation_type: str | None = None,
    district: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CasesPublic:
    """Cases, newest first."""
    page = list_cases(
        session,
        stage=stage,
        posting=posting,
        violation_type=violation_type,
        district=district,
        limit=limit,
        offset=offset,
    )
    return CasesPublic(items=[CasePublic.model_validate(case) for case in page.items], count=page.count)


@router.get("/cases/{case_id}", response_model=CasePublic, responses=error_responses(404))
def case(case_id: int, user: UserDep, session: SessionDep) -> CasePublic:
    """One case with its stage events and posting state."""
    return CasePublic.model_validate(get_case(session, case_id=case_id))


@router.post(
    "/platform/callback", response_model=CallbackPublic, responses=error_responses(403, 404, 409), tags=["platform"]
)
def platform_callback(body: CallbackIn, machine: TokenDep, session: SessionDep, context: ContextDep) -> CallbackPublic:
    """The city platform reports a stage change (bearer token only). Repeats are acknowledged without change."""
    result = apply_callback(
        session,
        stage=body.stage,
        case_id=body.case_id,
        platform_case_id=body.platform_case_id,
        at=body.at,
        payload=body.model_dump(mode="json", exclude_none=True),
        announce=context.settings.announce_targets,
        now=context.clock(),
    )
    session.commit()
    view = get_case(session, case_id=result.case.id)
    event = next(event for event in view.events if event.id == result.event.id)
    return CallbackPublic(
        applied=result.applied, case=CasePublic.model_validate(view), event=CaseEventPublic.model_validate(event)
    )


@router.get("/outbox/dead", response_model=MessagesPublic, tags=["posting"])
def dead_letters(
    user: UserDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> MessagesPublic:
    """Messages that gave up after every retry, newest first."""
    items = [
        MessagePublic.model_validate(message) for message in outbox.dead_letters(session, limit=limit, offset=offset)
    ]
    return MessagesPublic(items=items, count=len(items))


@router.post(
    "/outbox/{message_id}/retry",
    response_model=MessagePublic,
    responses=error_responses(403, 404, 409),
    tags=["posting"],
)
def retry_dead_letter(message_id: int, admin: AdminDep, session: SessionDep, context: ContextDep) -> MessagePublic:
    """Put a dead letter back in the queue with a fresh attempt budget (admin)."""
    message = outbox.retry_dead(session, message_id=message_id, now=context.clock())
    session.commit()
    return MessagePublic.model_validate(message)
