"""Rejections as hard negatives for the next training round: what the detector reported, where, and the evidence.

Only ``false_detection`` rejections are hard negatives by default: a ``permitted`` stall really is a stall (the
rules, not the detector, should let it through) and a ``duplicate`` is a correct detection reported twice, so
training on those as "nothing here" would teach the detector the wrong thing. Pass ``reasons`` to widen it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.models.review import REJECT_REASONS, ReviewAction
from service.db.models.violations import Candidate, Evidence, Sighting
from service.errors import Invalid

HARD_NEGATIVE_REASONS = ("false_detection",)


@dataclass(frozen=True)
class EvidenceItem:
    """One evidence file of a candidate and the box of its sighting in it.

    Attributes:
        kind: ``frame`` (annotated), ``crop``, ``comparison``, or another kind the evidence writer stores.
        path: Relative to the evidence folder.
        sha256: Of the file's bytes.
        taken_at: When the picture was taken.
        sighting_id: The sighting it shows, if known.
        box: That sighting's box in its best frame, ``x1, y1, x2, y2`` pixels, if known.
    """

    kind: str
    path: str
    sha256: str
    taken_at: datetime
    sighting_id: int | None
    box: tuple[float, float, float, float] | None


@dataclass(frozen=True)
class HardNegative:
    """A rejected candidate and why.

    Attributes:
        candidate_id: The candidate.
        class_name: What the detector called it.
        violation_type: The violation type it would have been.
        reason: The reject reason.
        note: The reviewer's note.
        rejected_at: When it was rejected.
        rejected_by_id: Who rejected it.
        evidence: Its evidence files, oldest first.
    """

    candidate_id: int
    class_name: str
    violation_type: str
    reason: str
    note: str | None
    rejected_at: datetime
    rejected_by_id: int | None
    evidence: tuple[EvidenceItem, ...]


def hard_negatives(
    session: Session,
    *,
    since: datetime | None = None,
    reasons: Sequence[str] = HARD_NEGATIVE_REASONS,
    limit: int | None = None,
) -> list[HardNegative]:
    """Rejected candidates (rejection not undone) rejected at or after ``since``, oldest rejection first.

    Args:
        session: Any session.
        since: Only rejections from then on; ``None``: all.
        reasons: Reject reasons that count (``false_detection`` by default, see the module docstring).
        limit: At most this many.

    Raises:
        Invalid: An unknown reason, or a naive ``since``.
    """
    unknown = [reason for reason in reasons if reason not in REJECT_REASONS]
    if unknown or not reasons:
        raise Invalid(f"{list(reasons)!r}: each must be one of {', '.join(REJECT_REASONS)}", field="reasons")
    if since is not None and since.tzinfo is None:
        raise Invalid("give a timezone-aware time", field="since")
    query = (
        select(Candidate, ReviewAction)
        .join(ReviewAction, ReviewAction.candidate_id == Candidate.id)
        .where(
            Candidate.status == "rejected",
            ReviewAction.action == "reject",
            ReviewAction.undone_by_id.is_(None),
            ReviewAction.reason.in_(reasons),
        )
        .order_by(ReviewAction.created_at, ReviewAction.id)
    )
    if since is not None:
        query = query.where(ReviewAction.created_at >= since)
    if limit is not None:
        query = query.limit(limit)
    rows = session.execute(query).all()
    evidence = evidence_of(session, candidate_ids=[candidate.id for candidate, _ in rows])
    return [
        HardNegative(
            candidate_id=candidate.id,
            class_name=candidate.class_name,
            violation_type=candidate.violation_type,
            reason=action.reason or "",
            note=action.note,
            rejected_at=action.created_at,
            rejected_by_id=action.user_id,
            evidence=evidence.get(candidate.id, ()),
        )
        for candidate, action in rows
    ]


def evidence_of(session: Session, *, candidate_ids: Sequence[int]) -> dict[int, tuple[EvidenceItem, ...]]:
    """The evidence of each candidate with its sighting's box, oldest first; candidates without any are absent."""
    if not candidate_ids:
        return {}
    query = (
        select(Evidence, Sighting.box)
        .outerjoin(Sighting, Sighting.id == Evidence.sighting_id)
        .where(Evidence.candidate_id.in_(list(candidate_ids)))
        .order_by(Evidence.candidate_id, Evidence.taken_at, Evidence.id)
    )
    found: dict[int, list[EvidenceItem]] = {}
    for item, box in session.execute(query):
        found.setdefault(item.candidate_id, []).append(
            EvidenceItem(
                kind=item.kind,
                path=item.path,
                sha256=item.sha256,
                taken_at=item.taken_at,
                sighting_id=item.sighting_id,
                box=_box(box),
            )
        )
    return {candidate_id: tuple(items) for candidate_id, items in found.items()}


def _box(value: object) -> tuple[float, float, float, float] | None:
    """A stored box as four floats, or ``None`` when it is missing or malformed."""
    if not isinstance(value, list | tuple) or len(value) != 4:
        return None
    try:
        x1, y1, x2, y2 = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    return x1, y1, x2, y2
