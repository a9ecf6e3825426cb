"""Undo: take back a confirm, reject, relabel or merge within a short window.

An undo puts the candidate back the way the audit row's ``details`` say it was, marks that row ``undone_by_id`` and
writes an ``undo`` row. The candidate comes back open and claimed by the user who undid it (any other item they
held is released), so the review page shows it again.

Rules:

- Only the user who acted, or an admin, may undo; only within ``window_s`` seconds; only once.
- Actions on one candidate are undone newest first: a later decision on the same candidate (or, for a merge, on
  its target, or a later merge into the same target) must be undone before.
- A confirmation can be undone only while nothing of its case has gone to the platform: every outbox row still
  pending with no sending attempt started (the sender counts an attempt before it sends). Otherwise the undo is
  refused; the case is then voided through the platform instead. An undone confirmation deletes the case, its
  events and its outbox rows.

Nothing commits here; after an error roll the session back.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from service.db.base import utcnow
from service.db.models.cases import Case, CaseEvent
from service.db.models.posting import OutboxMessage
from service.db.models.review import ReviewAction
from service.db.models.users import User
from service.db.models.violations import Candidate, Evidence, Sighting
from service.errors import Conflict, Forbidden, Invalid, NotFound
from service.review.access import (
    ADMIN,
    active_user,
    check_may_act,
    is_postgres,
    lock_candidates,
    record_action,
)
from service.review.queue import DEFAULT_LEASE_S, current_claim

UNDO_WINDOW_S = 60.0
UNDOABLE = ("confirm", "reject", "relabel", "merge")


def undo(
    session: Session,
    *,
    action_id: int,
    user_id: int,
    window_s: float = UNDO_WINDOW_S,
    now: datetime | None = None,
) -> Candidate:
    """Reverse the audit-log action ``action_id`` (see the module rules).

    Returns:
        The candidate the action was on, open again and claimed by ``user_id``.

    Raises:
        NotFound: No such action or user.
        Invalid: The action is a claim, release or undo (nothing to take back).
        Forbidden: Someone else's action and the user is not an admin; or the user is deactivated.
        Conflict: Already undone, the window passed, a later action must be undone first, or the case was
            (perhaps) already sent to the platform.
    """
    now = now or utcnow()
    user = active_user(session, user_id)
    action = session.get(ReviewAction, action_id, populate_existing=True)
    if action is None:
        raise NotFound(f"review action {action_id} does not exist")
    _check_undoable(action, user, window_s=window_s, now=now)
    target_id: int | None = (action.details or {}).get("target_id") if action.action == "merge" else None
    rows = lock_candidates(session, [action.candidate_id] + ([target_id] if target_id is not None else []))
    _check_newest(session, action, target_id)
    candidate = rows[action.candidate_id]
    check_may_act(candidate, user, now=now)  # a relabelled item someone else has claimed since stays theirs
    if action.action == "confirm":
        _undo_confirm(session, candidate, action)
    elif action.action == "reject":
        _expect(candidate, "rejected", action)
    elif action.action == "relabel":
        _undo_relabel(candidate, action)
    elif target_id is not None:
        _undo_merge(session, candidate, rows[target_id], action)
    candidate.status = "open"
    _give_back(session, candidate, user=user, now=now)
    record = record_action(
        session,
        candidate_id=candidate.id,
        user_id=user.id,
        action="undo",
        now=now,
        details={"undid": action.id, "action": action.action},
    )
    action.undone_by_id = record.id
    session.flush()
    return candidate


def undo_last(
    session: Session, *, user_id: int, window_s: float = UNDO_WINDOW_S, now: datetime | None = None
) -> Candidate:
    """Undo the user's most recent decision that is still within the window and not undone (the ``u`` key).

    Raises:
        NotFound: Nothing to undo in the last ``window_s`` seconds.
        Others: As :func:`undo`.
    """
    now = now or utcnow()
    action = last_undoable(session, user_id=user_id, window_s=window_s, now=now)
    if action is None:
        raise NotFound(f"nothing of yours to undo in the last {window_s:g} s")
    return undo(session, action_id=action.id, user_id=user_id, window_s=window_s, now=now)


def last_undoable(
    session: Session, *, user_id: int, window_s: float = UNDO_WINDOW_S, now: datetime | None = None
) -> ReviewAction | None:
    """The user's newest confirm/reject/relabel/merge within ``window_s`` seconds that is not undone, or ``None``."""
    now = now or utcnow()
    return session.scalars(
        select(ReviewAction)
        .where(
            ReviewAction.user_id == user_id,
            ReviewAction.action.in_(UNDOABLE),
            ReviewAction.undone_by_id.is_(None),
            ReviewAction.created_at >= now - timedelta(seconds=window_s),
        )
        .order_by(ReviewAction.created_at.desc(), ReviewAction.id.desc())
        .limit(1)
    ).first()


def _check_undoable(action: ReviewAction, user: User, *, window_s: float, now: datetime) -> None:
    if action.action not in UNDOABLE:
        raise Invalid(f"a {action.action} cannot be undone (only {', '.join(UNDOABLE)})", field="action_id")
    if action.undone_by_id is not None:
        raise Conflict(f"review action {action.id} was already undone (by action {action.undone_by_id})")
    if action.user_id != user.id and user.role != ADMIN:
        raise Forbidden(f"review action {action.id} is user {action.user_id}'s; only they or an admin may undo it")
    age = (now - action.created_at).total_seconds()
    if age > window_s:
        raise Conflict(f"review action {action.id} is {age:.0f} s old; undo is possible for {window_s:g} s")


def _check_newest(session: Session, action: ReviewAction, target_id: int | None) -> None:
    """Refuse when a later, not undone decision touches the same candidates."""
    later = session.scalars(
        select(ReviewAction)
        .where(
            ReviewAction.id > action.id,
            ReviewAction.action.in_(UNDOABLE),
            ReviewAction.undone_by_id.is_(None),
        )
        .order_by(ReviewAction.id)
    ).all()
    for other in later:
        merged_into = (other.details or {}).get("target_id") if other.action == "merge" else None
        touched = {other.candidate_id, merged_into}
        if action.candidate_id in touched or (target_id is not None and target_id in touched):
            raise Conflict(f"undo the later {other.action} (review action {other.id}) first")


def _expect(candidate: Candidate, status: str, action: ReviewAction) -> None:
    if candidate.status != status:
        raise Conflict(f"candidate {candidate.id} is {candidate.status} now, not {status} as action {action.id} left")


def _undo_confirm(session: Session, candidate: Candidate, action: ReviewAction) -> None:
    _expect(candidate, "confirmed", action)
    case_query = select(Case).where(Case.candidate_id == candidate.id)
    outbox_query = select(OutboxMessage).join(Case).where(Case.candidate_id == candidate.id)
    if is_postgres(session):  # the sender skips locked rows; one mid-claim makes us wait and then see its attempt
        case_query, outbox_query = case_query.with_for_update(), outbox_query.with_for_update(of=OutboxMessage)
    case = session.scalars(case_query.execution_options(populate_existing=True)).first()
    if case is None:
        raise Conflict(f"candidate {candidate.id} has no case any more; nothing to undo")
    for message in session.scalars(outbox_query.execution_options(populate_existing=True)):
        if message.state != "pending" or message.attempts > 0:
            raise Conflict(
                f"case {case.id} was already sent to the platform (outbox {message.id}: {message.state}, "
                f"{message.attempts} attempt(s)); it cannot be undone, void it on the platform instead"
            )
    if case.stage != "accepted":
        raise Conflict(f"case {case.id} is already {case.stage} on the platform; it cannot be undone")
    session.execute(delete(OutboxMessage).where(OutboxMessage.case_id == case.id))
    session.execute(delete(CaseEvent).where(CaseEvent.case_id == case.id))
    session.delete(case)
    session.flush()


def _undo_relabel(candidate: Candidate, action: ReviewAction) -> None:
    _expect(candidate, "open", action)
    details: dict[str, Any] = action.details or {}
    after, before = details.get("after", {}), details.get("before", {})
    if candidate.class_name != after.get("class_name"):
        raise Conflict(f"candidate {candidate.id} is a {candidate.class_name!r} now, not {after.get('class_name')!r}")
    candidate.class_name = before["class_name"]
    candidate.violation_type = before["violation_type"]
    candidate.event_code = before["event_code"]


def _undo_merge(session: Session, source: Candidate, target: Candidate, action: ReviewAction) -> None:
    _expect(source, "merged", action)
    details: dict[str, Any] = action.details or {}
    before, moved = details["before"], details["moved"]
    for table, ids in ((Sighting, moved["sightings"]), (Evidence, moved["evidence"])):
        if ids:
            session.execute(
                update(table).where(table.id.in_(ids), table.candidate_id == target.id).values(candidate_id=source.id)
            )
    source.sightings_count = before["source"]["sightings_count"]
    source.merged_into_id = None
    target.sightings_count = before["target"]["sightings_count"]
    target.first_seen = datetime.fromisoformat(before["target"]["first_seen"])
    target.last_seen = datetime.fromisoformat(before["target"]["last_seen"])
    target.score = before["target"]["score"]


def _give_back(session: Session, candidate: Candidate, *, user: User, now: datetime) -> None:
    """Hand the undone item to the user, releasing whatever else they hold (one item per reviewer)."""
    held = current_claim(session, user_id=user.id, now=now)
    if held is not None and held.id != candidate.id:
        details = {"claimed_by_id": user.id, "why": f"undo of candidate {candidate.id}"}
        held.claimed_by_id = held.claim_expires_at = None
        record_action(session, candidate_id=held.id, user_id=user.id, action="release", now=now, details=details)
    candidate.claimed_by_id = user.id
    candidate.claim_expires_at = now + timedelta(seconds=DEFAULT_LEASE_S)
    session.flush()
