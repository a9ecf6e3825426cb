"""The review queue over HTTP: claim, decide, undo, bulk; every call acts as the logged-in reviewer."""

from __future__ import annotations

from fastapi import APIRouter

from service import review
from service.api.crud import candidates as candidate_store
from service.api.deps import ContextDep, Principal, SessionDep, UserDep
from service.api.errors import SERVICE_STATUS
from service.api.schemas.candidates import CandidateDetail
from service.api.schemas.common import error_responses
from service.api.schemas.review import (
    BulkFailurePublic,
    BulkIn,
    BulkPublic,
    ClaimIn,
    ClaimPublic,
    ConfirmIn,
    DecisionPublic,
    LeaseIn,
    MergeIn,
    QueueFilterIn,
    RejectIn,
    RelabelIn,
    UndoIn,
)
from service.api.views import candidate_detail
from service.db.models import Candidate
from service.errors import Invalid

router = APIRouter(prefix="/api/review", tags=["review"], responses=error_responses(401, 403, 404, 409, 422))


@router.post("/claim", response_model=ClaimPublic)
def claim_next(body: ClaimIn, user: UserDep, session: SessionDep, context: ContextDep) -> ClaimPublic:
    """Claim the next open item matching the filter (or get back the one already held, lease renewed)."""
    filters = queue_filter(body)
    candidate = review.claim_next(
        session, user_id=user.user_id, lease_s=_lease(body.lease_s), filters=filters, now=context.clock()
    )
    session.commit()
    remaining = review.queue_size(session, filters=filters, now=context.clock())
    return ClaimPublic(candidate=_detail(session, candidate), remaining=remaining)


@router.get("/current", response_model=ClaimPublic)
def current(user: UserDep, session: SessionDep, context: ContextDep) -> ClaimPublic:
    """The item the caller holds now, if any."""
    candidate = review.current_claim(session, user_id=user.user_id, now=context.clock())
    return ClaimPublic(candidate=_detail(session, candidate), remaining=review.queue_size(session, now=context.clock()))


@router.post("/{candidate_id}/release", response_model=CandidateDetail)
def release(candidate_id: int, user: UserDep, session: SessionDep, context: ContextDep) -> CandidateDetail:
    """Give the item back to the queue."""
    candidate = review.release(session, candidate_id=candidate_id, user_id=user.user_id, now=context.clock())
    return _committed(session, candidate)


@router.post("/{candidate_id}/extend", response_model=CandidateDetail)
def extend(
    candidate_id: int, body: LeaseIn, user: UserDep, session: SessionDep, context: ContextDep
) -> CandidateDetail:
    """Renew the caller's lease on the item."""
    candidate = review.extend(
        session, candidate_id=candidate_id, user_id=user.user_id, lease_s=_lease(body.lease_s), now=context.clock()
    )
    return _committed(session, candidate)


@router.post("/{candidate_id}/confirm", response_model=DecisionPublic)
def confirm(
    candidate_id: int, body: ConfirmIn, user: UserDep, session: SessionDep, context: ContextDep
) -> DecisionPublic:
    """Confirm: the candidate becomes a case, queued for posting to the platform in the same transaction."""
    case = review.confirm(
        session,
        candidate_id=candidate_id,
        user_id=user.user_id,
        fields=review.CaseFields(**body.model_dump()),
        targets=context.settings.posting_targets,
        now=context.clock(),
    )
    session.commit()
    return DecisionPublic(candidate=_reloaded(session, candidate_id), case_id=case.id)


@router.post("/{candidate_id}/reject", response_model=DecisionPublic)
def reject(
    candidate_id: int, body: RejectIn, user: UserDep, session: SessionDep, context: ContextDep
) -> DecisionPublic:
    """Reject with a reason; the item becomes a hard negative for training."""
    review.reject(
        session,
        candidate_id=candidate_id,
        user_id=user.user_id,
        reason=body.reason,
        note=body.note,
        now=context.clock(),
    )
    session.commit()
    return DecisionPublic(candidate=_reloaded(session, candidate_id))


@router.post("/{candidate_id}/relabel", response_model=DecisionPublic)
def relabel(
    candidate_id: int, body: RelabelIn, user: UserDep, session: SessionDep, context: ContextDep
) -> DecisionPublic:
    """Change the detector class (and with it the violation type and event code)."""
    review.relabel(
        session, candidate_id=candidate_id, user_id=user.user_id, class_name=body.class_name, now=context.clock()
    )
    session.commit()
    return DecisionPublic(candidate=_reloaded(session, candidate_id))


@router.post("/{candidate_id}/merge", response_model=DecisionPublic)
def merge(candidate_id: int, body: MergeIn, user: UserDep, session: SessionDep, context: ContextDep) -> DecisionPublic:
    """Merge this candidate into ``target_id`` (the same violation); the answer shows the target."""
    review.merge(session, source_id=candidate_id, target_id=body.target_id, user_id=user.user_id, now=context.clock())
    session.commit()
    return DecisionPublic(candidate=_reloaded(session, body.target_id))


@router.post("/undo", response_model=DecisionPublic)
def undo(body: UndoIn, user: UserDep, session: SessionDep, context: ContextDep) -> DecisionPublic:
    """Undo an action (or the caller's latest) within the undo window; the item comes back claimed by the caller."""
    if body.action_id is None:
        candidate = review.undo_last(session, user_id=user.user_id, now=context.clock())
    else:
        candidate = review.undo(session, action_id=body.action_id, user_id=user.user_id, now=context.clock())
    session.commit()
    return DecisionPublic(candidate=_reloaded(session, candidate.id))


@router.post("/bulk", response_model=BulkPublic)
def bulk(body: BulkIn, user: UserDep, session: SessionDep, context: ContextDep) -> BulkPublic:
    """Confirm or reject many items; each is decided on its own and failures are listed with their status."""
    result = _bulk(body, user, session, context)
    session.commit()
    failed = [
        BulkFailurePublic(candidate_id=failure.candidate_id, status=_status(failure.error), detail=str(failure.error))
        for failure in result.failed
    ]
    return BulkPublic(succeeded=list(result.succeeded), failed=failed, case_ids=list(result.case_ids))


def queue_filter(body: QueueFilterIn) -> review.QueueFilter:
    """The review helper's filter from a request body."""
    return review.QueueFilter(
        violation_types=tuple(body.violation_types),
        class_names=tuple(body.class_names),
        camera_ids=tuple(body.camera_ids),
        area=body.area,
        seen_after=body.seen_after,
        seen_before=body.seen_before,
        min_score=body.min_score,
        order=body.order,
    )


def _bulk(body: BulkIn, user: Principal, session: SessionDep, context: ContextDep) -> review.BulkResult:
    if body.action == "reject":
        if body.reason is None:
            raise Invalid("a bulk reject needs a reason", field="reason")
        return review.bulk_reject(
            session,
            candidate_ids=body.candidate_ids,
            user_id=user.user_id,
            reason=body.reason,
            note=body.note,
            now=context.clock(),
        )
    return review.bulk_confirm(
        session,
        candidate_ids=body.candidate_ids,
        user_id=user.user_id,
        fields=review.CaseFields(**body.fields.model_dump()) if body.fields else None,
        targets=context.settings.posting_targets,
        now=context.clock(),
    )


def _lease(lease_s: float | None) -> float:
    return lease_s if lease_s is not None else review.DEFAULT_LEASE_S


def _status(error: Exception) -> int:
    return next((code for kind, code in SERVICE_STATUS if isinstance(error, kind)), 400)


def _detail(session: SessionDep, candidate: Candidate | None) -> CandidateDetail | None:
    return candidate_detail(session, candidate) if candidate is not None else None


def _committed(session: SessionDep, candidate: Candidate) -> CandidateDetail:
    session.commit()
    return _reloaded(session, candidate.id)


def _reloaded(session: SessionDep, candidate_id: int) -> CandidateDetail:
    return candidate_detail(session, candidate_store.get_candidate(session, candidate_id=candidate_id))
