"""Reading candidates for the API: filtered pages, one with its evidence and audit log."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.db.models import Candidate, Evidence
from service.db.models.violations import CANDIDATE_STATUSES
from service.errors import Invalid, NotFound
from service.review import QueueFilter


def list_candidates(
    session: Session,
    *,
    statuses: Sequence[str] = (),
    filters: QueueFilter | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Candidate], int]:
    """A page of candidates in the filter's order, and how many match.

    Args:
        session: Any session.
        statuses: Keep these statuses (empty: all).
        filters: Types, classes, cameras, area, time and score, as the review queue filters them.
        limit: Page size.
        offset: Candidates to skip.

    Raises:
        Invalid: An unknown status.
    """
    unknown = [status for status in statuses if status not in CANDIDATE_STATUSES]
    if unknown:
        raise Invalid(f"{unknown[0]!r} is not one of {', '.join(CANDIDATE_STATUSES)}", field="status")
    filters = filters or QueueFilter(order="newest")
    conditions = filters.conditions()
    if statuses:
        conditions.append(Candidate.status.in_(list(statuses)))
    count = session.scalar(select(func.count()).select_from(Candidate).where(*conditions)) or 0
    query = filters.ordered(select(Candidate).where(*conditions)).limit(limit).offset(offset)
    return list(session.scalars(query)), int(count)


def get_candidate(session: Session, *, candidate_id: int) -> Candidate:
    """One candidate.

    Raises:
        NotFound: There is none.
    """
    candidate = session.get(Candidate, candidate_id, populate_existing=True)
    if candidate is None:
        raise NotFound(f"candidate {candidate_id} does not exist")
    return candidate


def evidence_of(session: Session, *, candidate_ids: Sequence[int]) -> dict[int, list[Evidence]]:
    """Every evidence file of the candidates, newest first per candidate."""
    found: dict[int, list[Evidence]] = {candidate_id: [] for candidate_id in candidate_ids}
    if not candidate_ids:
        return found
    query = (
        select(Evidence)
        .where(Evidence.candidate_id.in_(list(candidate_ids)))
        .order_by(Evidence.candidate_id, Evidence.taken_at.desc(), Evidence.id.desc())
    )
    for evidence in session.scalars(query):
        found[evidence.candidate_id].append(evidence)
    return found
