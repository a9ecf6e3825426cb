"""A reviewer's decisions on one candidate: confirm (it becomes a case), reject, relabel, merge.

Each function locks the rows, checks, writes, and records one audit-log row (:class:`ReviewAction`) whose
``details`` hold the values before and after, so :func:`service.review.undo.undo` can put them back. Nothing
commits here: the caller commits once, so a confirmation, its case, its ``accepted`` event and its outbox rows
are stored together or not at all. After any error, roll the session back.

Who may decide: a reviewer may decide an item they hold, nobody holds, or whose lease ran out; an item another
reviewer holds is a :class:`~service.errors.Conflict`. Admins may decide any open item. A decision ends the claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.db.base import utcnow
from service.db.models.cases import Case, CaseEvent
from service.db.models.review import REJECT_REASONS
from service.db.models.violations import Candidate, Evidence, Sighting
from service.errors import Conflict, Invalid
from service.posting.outbox import enqueue_case
from service.posting.payload import default_taxonomy
from service.review.access import active_user, check_may_act, check_status, lock_candidates, record_action
from vision.taxonomy import Taxonomy

NOTE_LIMIT = 1024  # ReviewAction.note is String(1024)
_FIELD_LIMITS = {"address": 512, "district": 128, "street": 128, "grid": 64, "description": 2048}


@dataclass(frozen=True)
class CaseFields:
    """What the reviewer adds to a confirmed candidate for the city platform.

    Attributes:
        address: Street address (up to 512 characters).
        district: District (区, up to 128).
        street: Street office (街道, up to 128).
        grid: Grid cell code (网格, up to 64).
        description: Free text for the platform (up to 2048); empty: the posting builds one from the type.

    Raises:
        Invalid: A value is not a string or too long; the field is named.
    """

    address: str | None = None
    district: str | None = None
    street: str | None = None
    grid: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if value is None and item.name != "description":
                continue
            if not isinstance(value, str):
                raise Invalid(f"expected text, got {type(value).__name__}", field=item.name)
            if len(value) > _FIELD_LIMITS[item.name]:
                raise Invalid(f"{len(value)} characters, at most {_FIELD_LIMITS[item.name]}", field=item.name)


def confirm(
    session: Session,
    *,
    candidate_id: int,
    user_id: int,
    fields: CaseFields | None = None,
    targets: Sequence[str] = ("http",),
    taxonomy: Taxonomy | None = None,
    now: datetime | None = None,
) -> Case:
    """Confirm an open candidate: create its case, the case's ``accepted`` (受理) event and its outbox rows.

    The case takes the event code and violation type of the candidate's (possibly relabelled) class from the
    taxonomy, the candidate's coordinates, and ``fields``. The caller commits once: the outbox rows and the case
    exist together or not at all.

    Args:
        session: The request's session.
        candidate_id: The candidate.
        user_id: The reviewer.
        fields: Address and area fields; ``None``: none known.
        targets: Where the case is posted (``http`` and/or ``mqtt``), see :func:`service.posting.outbox.enqueue_case`.
        taxonomy: Codes and names; the repository's taxonomy by default.
        now: The current time (tests pass it); ``None``: the clock.

    Returns:
        The new case (flushed: it has its id).

    Raises:
        NotFound: No such candidate or user.
        Forbidden: The user is deactivated.
        Conflict: Already decided, claimed by another reviewer, or its class is not a violation (relabel first).
    """
    fields = fields or CaseFields()
    taxonomy = taxonomy or default_taxonomy()
    now = now or utcnow()
    user = active_user(session, user_id)
    candidate = lock_candidates(session, [candidate_id])[candidate_id]
    check_status(candidate, "open")
    check_may_act(candidate, user, now=now)
    event_code, violation_type = _case_codes(candidate, taxonomy)
    before = _claim_state(candidate)
    candidate.status = "confirmed"
    candidate.claimed_by_id = candidate.claim_expires_at = None
    case = Case(
        candidate_id=candidate.id,
        event_code=event_code,
        violation_type=violation_type,
        description=fields.description,
        address=fields.address,
        district=fields.district,
        street=fields.street,
        grid=fields.grid,
        lat=candidate.lat,
        lon=candidate.lon,
        stage="accepted",
        confirmed_by_id=user.id,
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    session.flush()
    session.add(CaseEvent(case_id=case.id, stage="accepted", at=now, payload={"source": "review", "user_id": user.id}))
    messages = enqueue_case(session, case=case, targets=targets, taxonomy=taxonomy)
    details = {"case_id": case.id, "outbox_ids": [m.id for m in messages], "before": before}
    record_action(session, candidate_id=candidate.id, user_id=user.id, action="confirm", now=now, details=details)
    return case


def reject(
    session: Session,
    *,
    candidate_id: int,
    user_id: int,
    reason: str,
    note: str | None = None,
    now: datetime | None = None,
) -> Candidate:
    """Reject an open candidate with a reason; ``false_detection`` rejections become hard negatives.

    Args:
        session: The request's session.
        candidate_id: The candidate.
        user_id: The reviewer.
        reason: One of ``REJECT_REASONS``: ``false_detection``, ``permitted`` (legal, e.g. licensed), ``duplicate``,
            ``other``.
        note: Free text (up to 1024 characters).
        now: The current time; ``None``: the clock.

    Raises:
        Invalid: Unknown reason or a note too long.
        NotFound: No such candidate or user.
        Forbidden: The user is deactivated.
        Conflict: Already decided or claimed by another reviewer.
    """
    check_reason(reason, note)
    now = now or utcnow()
    user = active_user(session, user_id)
    candidate = lock_candidates(session, [candidate_id])[candidate_id]
    check_status(candidate, "open")
    check_may_act(candidate, user, now=now)
    details = {"before": _claim_state(candidate)}
    candidate.status = "rejected"
    candidate.claimed_by_id = candidate.claim_expires_at = None
    session.flush()
    record_action(
        session,
        candidate_id=candidate.id,
        user_id=user.id,
        action="reject",
        now=now,
        reason=reason,
        note=note,
        details=details,
    )
    return candidate


def check_reason(reason: str, note: str | None) -> None:
    """Refuse an unknown reject reason or an over-long note.

    Raises:
        Invalid: Naming ``reason`` or ``note``.
    """
    if reason not in REJECT_REASONS:
        raise Invalid(f"{reason!r} is not one of {', '.join(REJECT_REASONS)}", field="reason")
    if note is not None and len(note) > NOTE_LIMIT:
        raise Invalid(f"{len(note)} characters, at most {NOTE_LIMIT}", field="note")


def relabel(
    session: Session,
    *,
    candidate_id: int,
    user_id: int,
    class_name: str,
    taxonomy: Taxonomy | None = None,
    now: datetime | None = None,
) -> Candidate:
    """Change an open candidate's class; its violation type and event code follow from the taxonomy.

    The claim stays (a reviewer relabels, then confirms). Relabelling to the class it has changes nothing and
    writes no audit row.

    Raises:
        Invalid: ``class_name`` is not in the taxonomy, or is scene context (not a violation: reject instead).
        NotFound: No such candidate or user.
        Forbidden: The user is deactivated.
        Conflict: Already decided or claimed by another reviewer.
    """
    taxonomy = taxonomy or default_taxonomy()
    if class_name not in taxonomy:
        raise Invalid(f"{class_name!r} is not a class (known: {', '.join(taxonomy.names)})", field="class_name")
    detector_class = taxonomy.get(class_name)
    if detector_class.event is None:
        raise Invalid(f"{class_name!r} is scene context, not a violation; reject the item instead", field="class_name")
    now = now or utcnow()
    user = active_user(session, user_id)
    candidate = lock_candidates(session, [candidate_id])[candidate_id]
    check_status(candidate, "open")
    check_may_act(candidate, user, now=now)
    if candidate.class_name == class_name:
        return candidate
    before = _labels(candidate)
    candidate.class_name = class_name
    candidate.violation_type = detector_class.violation.key
    candidate.event_code = detector_class.event.code
    session.flush()
    details = {"before": before, "after": _labels(candidate)}
    record_action(session, candidate_id=candidate.id, user_id=user.id, action="relabel", now=now, details=details)
    return candidate


def merge(
    session: Session,
    *,
    source_id: int,
    target_id: int,
    user_id: int,
    now: datetime | None = None,
) -> Candidate:
    """Merge candidate ``source_id`` into ``target_id``: the same violation, reported twice.

    The source becomes ``merged`` with ``merged_into_id = target_id``; its sightings and evidence move to the
    target, whose ``sightings_count`` grows by the source's, ``first_seen``/``last_seen`` widen and ``score``
    becomes the larger of the two. The target may be open or already confirmed (a new report of a known case).

    Returns:
        The target.

    Raises:
        Invalid: ``source_id == target_id``.
        NotFound: No such candidate or user.
        Forbidden: The user is deactivated.
        Conflict: The source is not open or is claimed by another reviewer; the target is rejected or merged.
    """
    if source_id == target_id:
        raise Invalid(f"cannot merge candidate {source_id} into itself", field="target_id")
    now = now or utcnow()
    user = active_user(session, user_id)
    rows = lock_candidates(session, [source_id, target_id])
    source, target = rows[source_id], rows[target_id]
    check_status(source, "open")
    check_may_act(source, user, now=now)
    check_status(target, "open", "confirmed")
    sighting_ids = list(session.scalars(select(Sighting.id).where(Sighting.candidate_id == source.id)))
    evidence_ids = list(session.scalars(select(Evidence.id).where(Evidence.candidate_id == source.id)))
    details = {
        "target_id": target.id,
        "before": {"source": {**_counts(source), **_claim_state(source)}, "target": _counts(target)},
        "moved": {"sightings": sighting_ids, "evidence": evidence_ids},
    }
    _move(session, Sighting, sighting_ids, target.id)
    _move(session, Evidence, evidence_ids, target.id)
    target.sightings_count += source.sightings_count
    target.first_seen = min(target.first_seen, source.first_seen)
    target.last_seen = max(target.last_seen, source.last_seen)
    target.score = max(target.score, source.score)
    source.sightings_count = 0
    source.status = "merged"
    source.merged_into_id = target.id
    source.claimed_by_id = source.claim_expires_at = None
    session.flush()
    record_action(session, candidate_id=source.id, user_id=user.id, action="merge", now=now, details=details)
    return target


def _case_codes(candidate: Candidate, taxonomy: Taxonomy) -> tuple[str, str]:
    """Event code and violation type of the candidate's class; its stored codes when the class is unknown."""
    if candidate.class_name in taxonomy:
        detector_class = taxonomy.get(candidate.class_name)
        if detector_class.event is None:
            raise Conflict(
                f"candidate {candidate.id} is a {candidate.class_name!r} (scene context, not a violation); "
                "relabel it or reject it"
            )
        return detector_class.event.code, detector_class.violation.key
    if candidate.event_code in taxonomy.event_codes and candidate.violation_type in taxonomy.violation_types:
        return candidate.event_code, candidate.violation_type
    raise Conflict(
        f"candidate {candidate.id}: class {candidate.class_name!r} and event code {candidate.event_code!r} are "
        f"not in {taxonomy.path}; relabel it"
    )


def _claim_state(candidate: Candidate) -> dict[str, Any]:
    expires = candidate.claim_expires_at
    return {
        "status": candidate.status,
        "claimed_by_id": candidate.claimed_by_id,
        "claim_expires_at": expires.isoformat() if expires else None,
    }


def _labels(candidate: Candidate) -> dict[str, str]:
    return {
        "class_name": candidate.class_name,
        "violation_type": candidate.violation_type,
        "event_code": candidate.event_code,
    }


def _counts(candidate: Candidate) -> dict[str, Any]:
    return {
        "sightings_count": candidate.sightings_count,
        "first_seen": candidate.first_seen.isoformat(),
        "last_seen": candidate.last_seen.isoformat(),
        "score": candidate.score,
    }


def _move(session: Session, table: type[Sighting] | type[Evidence], ids: list[int], candidate_id: int) -> None:
    if ids:
        session.execute(update(table).where(table.id.in_(ids)).values(candidate_id=candidate_id))
