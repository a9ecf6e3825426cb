"""The item page and its actions: claim next, confirm, reject, relabel, merge, release, undo.

Each action is a form POST with the CSRF token that ends in a redirect (POST → 303 → GET): after a decision the
reviewer's next item is claimed within their filter and shown, with a line saying what was done and that ``u``
takes it back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from service import review
from service.api.crud import candidates as candidate_store
from service.api.deps import ContextDep, Principal, SessionDep, UserDep
from service.api.pages import queries
from service.api.pages.filters import QueueQuery
from service.api.pages.rendering import (
    DISPLAY_ZONE_LABEL,
    HeldByOther,
    PageRoute,
    local_time,
    page_values,
    redirect,
    render,
)
from service.api.pages.views import (
    REJECT_REASONS_SHOWN,
    STATUS_NAMES,
    Notice,
    class_label,
    evidence_views,
    holder_of,
    map_view,
    osm_url,
    relabel_choices,
)
from service.api.schemas.review import RejectReason
from service.db.models import Camera, Candidate
from service.errors import Conflict
from service.review.access import claim_holder

router = APIRouter(route_class=PageRoute)

MAP_RADIUS_M = 150.0
Filter = Annotated[str, Form(max_length=4096, description="The queue filter as a query string.")]


@router.post("/review/claim")
def claim(user: UserDep, session: SessionDep, context: ContextDep, q: Filter = "") -> Response:
    """Claim the next open item within the filter (or get back the one held) and show it."""
    return _next_item(session, user, context, QueueQuery.from_text(q))


@router.get("/review/{candidate_id}")
def item_page(candidate_id: int, request: Request, user: UserDep, session: SessionDep, context: ContextDep) -> Response:
    """One candidate with its evidence, names, map, history and the forms to decide it."""
    query = QueueQuery.from_pairs(request.query_params.multi_items())
    candidate = candidate_store.get_candidate(session, candidate_id=candidate_id)
    now = context.clock()
    evidence = candidate_store.evidence_of(session, candidate_ids=[candidate.id])[candidate.id]
    actions = review.history(session, candidate_id=candidate.id)
    names = queries.usernames(session, user_ids=[candidate.claimed_by_id, *(action.user_id for action in actions)])
    neighbours = queries.nearby(session, candidate=candidate, radius_m=MAP_RADIUS_M)
    previous_id, next_id = queries.neighbours(session, candidate=candidate, filters=query.queue_filter())
    values = page_values(
        user,
        context,
        query=query,
        candidate=candidate,
        status_names=STATUS_NAMES,
        label=class_label(candidate.class_name, candidate.event_code),
        camera=session.get(Camera, candidate.camera_id) if candidate.camera_id is not None else None,
        evidence=evidence_views(evidence),
        holder=holder_of(candidate, names=names, viewer_id=user.user_id, now=now),
        history=actions,
        names=names,
        map=map_view(candidate, neighbours, radius_m=MAP_RADIUS_M),
        osm_url=osm_url(candidate.lat, candidate.lon),
        previous_id=previous_id,
        next_id=next_id,
        undoable=review.last_undoable(session, user_id=user.user_id, now=now),
        reasons=REJECT_REASONS_SHOWN,
        choices=relabel_choices(),
        notice=Notice.from_params(request.query_params),
    )
    return render(request, "item.html", values)


@router.post("/review/{candidate_id}/confirm")
def confirm(
    candidate_id: int,
    user: UserDep,
    session: SessionDep,
    context: ContextDep,
    address: Annotated[str, Form(max_length=512)] = "",
    district: Annotated[str, Form(max_length=128)] = "",
    street: Annotated[str, Form(max_length=128)] = "",
    grid: Annotated[str, Form(max_length=64)] = "",
    description: Annotated[str, Form(max_length=2048)] = "",
    q: Filter = "",
) -> Response:
    """Confirm: the item becomes a case (queued for the city platform); the next item is claimed."""
    query = QueueQuery.from_text(q)
    fields = review.CaseFields(
        address=address.strip() or None,
        district=district.strip() or None,
        street=street.strip() or None,
        grid=grid.strip() or None,
        description=description.strip(),
    )
    with _explained(session, candidate_id=candidate_id, user=user, now=context.clock()):
        case = review.confirm(
            session,
            candidate_id=candidate_id,
            user_id=user.user_id,
            fields=fields,
            targets=context.settings.posting_targets,
            now=context.clock(),
        )
        session.commit()
    return _next_item(session, user, context, query, Notice("confirm", candidate_id, case.id))


@router.post("/review/{candidate_id}/reject")
def reject(
    candidate_id: int,
    user: UserDep,
    session: SessionDep,
    context: ContextDep,
    reason: Annotated[RejectReason, Form()],
    note: Annotated[str, Form(max_length=1024)] = "",
    q: Filter = "",
) -> Response:
    """Reject with a reason (a false detection becomes a hard negative); the next item is claimed."""
    query = QueueQuery.from_text(q)
    with _explained(session, candidate_id=candidate_id, user=user, now=context.clock()):
        review.reject(
            session,
            candidate_id=candidate_id,
            user_id=user.user_id,
            reason=reason,
            note=note.strip() or None,
            now=context.clock(),
        )
        session.commit()
    return _next_item(session, user, context, query, Notice("reject", candidate_id))


@router.post("/review/{candidate_id}/relabel")
def relabel(
    candidate_id: int,
    user: UserDep,
    session: SessionDep,
    context: ContextDep,
    class_name: Annotated[str, Form(min_length=1, max_length=64)],
    q: Filter = "",
) -> Response:
    """Change the class (and with it the violation type and event code); the item stays open and shown."""
    query = QueueQuery.from_text(q)
    with _explained(session, candidate_id=candidate_id, user=user, now=context.clock()):
        review.relabel(
            session, candidate_id=candidate_id, user_id=user.user_id, class_name=class_name, now=context.clock()
        )
        session.commit()
    return redirect(query.url(f"/review/{candidate_id}", **Notice("relabel", candidate_id).params()))


@router.post("/review/{candidate_id}/merge")
def merge(
    candidate_id: int,
    user: UserDep,
    session: SessionDep,
    context: ContextDep,
    target_id: Annotated[int, Form(ge=1)],
    q: Filter = "",
) -> Response:
    """Merge this item into ``target_id`` (the same violation); the next item is claimed."""
    query = QueueQuery.from_text(q)
    with _explained(session, candidate_id=candidate_id, user=user, now=context.clock()):
        review.merge(session, source_id=candidate_id, target_id=target_id, user_id=user.user_id, now=context.clock())
        session.commit()
    return _next_item(session, user, context, query, Notice("merge", candidate_id, into_id=target_id))


@router.post("/review/{candidate_id}/release")
def release(candidate_id: int, user: UserDep, session: SessionDep, context: ContextDep, q: Filter = "") -> Response:
    """Give the item back to the queue and return to the queue page."""
    query = QueueQuery.from_text(q)
    with _explained(session, candidate_id=candidate_id, user=user, now=context.clock()):
        review.release(session, candidate_id=candidate_id, user_id=user.user_id, now=context.clock())
        session.commit()
    return redirect(query.url("/queue", **Notice("release", candidate_id).params()))


@router.post("/review/undo")
def undo(user: UserDep, session: SessionDep, context: ContextDep, q: Filter = "") -> Response:
    """Take back the reviewer's latest decision (within the undo window); that item comes back, claimed."""
    query = QueueQuery.from_text(q)
    candidate = review.undo_last(session, user_id=user.user_id, now=context.clock())
    session.commit()
    return redirect(query.url(f"/review/{candidate.id}", **Notice("undo", candidate.id).params()))


def _next_item(
    session: Session, user: Principal, context: ContextDep, query: QueueQuery, notice: Notice | None = None
) -> Response:
    """Claim the next item within ``query`` and redirect to it (or to the queue when none is left)."""
    done = notice.params() if notice else {}
    candidate = review.claim_next(session, user_id=user.user_id, filters=query.queue_filter(), now=context.clock())
    session.commit()
    if candidate is None:
        return redirect(query.url("/queue", empty=1, **done))
    return redirect(query.url(f"/review/{candidate.id}", **done))


@contextmanager
def _explained(session: Session, *, candidate_id: int, user: Principal, now: datetime) -> Iterator[None]:
    """Turn "claimed by user 7 until …" into who holds the item, by name and in local time."""
    try:
        yield
    except Conflict as error:
        session.rollback()
        candidate = session.get(Candidate, candidate_id, populate_existing=True)
        holder = claim_holder(candidate, now=now) if candidate is not None else None
        if candidate is None or holder is None or holder == user.user_id:
            raise
        name = queries.usernames(session, user_ids=[holder]).get(holder, f"user {holder}")
        until = local_time(candidate.claim_expires_at)
        raise HeldByOther(
            f"{name} holds candidate {candidate_id} until {until} ({DISPLAY_ZONE_LABEL}); "
            f"{name} 正在处理此条目。Claim the next item instead. 请认领下一个条目。"
        ) from error
