"""The queue page: filters, the open candidates with thumbnails and counts, bulk reject and bulk confirm."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from service import review
from service.api.crud import candidates as candidate_store
from service.api.deps import ContextDep, SessionDep, UserDep
from service.api.pages import queries
from service.api.pages.filters import QueueQuery
from service.api.pages.rendering import PageRoute, page_values, redirect, render
from service.api.pages.views import (
    REJECT_REASONS_SHOWN,
    ClassLabel,
    Holder,
    Notice,
    class_label,
    holder_of,
    relabel_choices,
    thumbnail,
)
from service.db.models import Candidate
from service.errors import Invalid
from service.posting.payload import default_taxonomy
from vision.taxonomy import CONTEXT

router = APIRouter(route_class=PageRoute)

PAGE_SIZE = 50
MAX_OFFSET = 1_000_000


@dataclass(frozen=True)
class QueueRow:
    """One line of the queue list."""

    candidate: Candidate
    label: ClassLabel
    thumbnail: str | None
    holder: Holder | None


@dataclass(frozen=True)
class BulkFailureView:
    """An item a bulk action left alone, and why."""

    candidate_id: int
    detail: str


@router.get("/")
def home(user: UserDep) -> Response:
    """The queue is the start page."""
    return redirect("/queue")


@router.get("/queue")
def queue_page(request: Request, user: UserDep, session: SessionDep, context: ContextDep) -> Response:
    """Open candidates matching the filter, oldest first by default, ``PAGE_SIZE`` per page."""
    query = QueueQuery.from_pairs(request.query_params.multi_items())
    offset = _offset(request.query_params.get("offset", ""))
    filters = query.queue_filter()
    now = context.clock()
    candidates, total = candidate_store.list_candidates(
        session, statuses=("open",), filters=filters, limit=PAGE_SIZE, offset=offset
    )
    evidence = candidate_store.evidence_of(session, candidate_ids=[candidate.id for candidate in candidates])
    names = queries.usernames(session, user_ids=[candidate.claimed_by_id for candidate in candidates])
    rows = [
        QueueRow(
            candidate=candidate,
            label=class_label(candidate.class_name, candidate.event_code),
            thumbnail=thumbnail(evidence[candidate.id]),
            holder=holder_of(candidate, names=names, viewer_id=user.user_id, now=now),
        )
        for candidate in candidates
    ]
    waiting = review.queue_size(session, filters=filters, now=now)
    values = page_values(
        user,
        context,
        query=query,
        rows=rows,
        total=total,
        waiting=waiting,
        held=max(0, total - waiting),
        offset=offset,
        page_size=PAGE_SIZE,
        current=review.current_claim(session, user_id=user.user_id, now=now),
        violation_types=_violation_types(),
        classes=relabel_choices(),
        cameras=queries.cameras(session),
        reasons=REJECT_REASONS_SHOWN,
        empty=request.query_params.get("empty") == "1",
        notice=Notice.from_params(request.query_params),
    )
    return render(request, "queue.html", values)


@router.post("/queue/bulk")
def bulk(
    request: Request,
    user: UserDep,
    session: SessionDep,
    context: ContextDep,
    action: Annotated[str, Form(pattern="^(confirm|reject)$")],
    candidate_id: Annotated[list[int], Form()] = [],  # noqa: B006
    reason: Annotated[str, Form(max_length=32)] = "",
    q: Annotated[str, Form(max_length=4096)] = "",
) -> Response:
    """Reject (with one reason) or confirm every selected item; each is decided on its own."""
    query = QueueQuery.from_text(q)
    if not candidate_id:
        raise Invalid("select at least one item (the checkboxes in the list)", field="candidate_id")
    if action == "reject":
        if not reason:
            raise Invalid("choose why the selected items are rejected", field="reason")
        result = review.bulk_reject(
            session, candidate_ids=candidate_id, user_id=user.user_id, reason=reason, now=context.clock()
        )
    else:
        result = review.bulk_confirm(
            session,
            candidate_ids=candidate_id,
            user_id=user.user_id,
            targets=context.settings.posting_targets,
            now=context.clock(),
        )
    session.commit()
    failures = [BulkFailureView(failure.candidate_id, str(failure.error)) for failure in result.failed]
    values = page_values(
        user, context, query=query, action=action, reason=reason, succeeded=result.succeeded, failed=failures
    )
    return render(request, "bulk_result.html", values)


def _offset(text: str) -> int:
    if not text:
        return 0
    if not text.isdigit() or int(text) > MAX_OFFSET:
        raise Invalid(f"{text[:40]!r} is not a page offset (0-{MAX_OFFSET})", field="offset")
    return int(text)


def _violation_types() -> list[tuple[str, str, str]]:
    return [
        (key, item.name_zh, item.name_en) for key, item in default_taxonomy().violation_types.items() if key != CONTEXT
    ]
