"""Candidates: filtered lists and one candidate with its evidence and audit log."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from service.api.crud import candidates as candidate_store
from service.api.deps import SessionDep, UserDep
from service.api.schemas.candidates import CandidateDetail, CandidatesPublic
from service.api.schemas.common import error_responses
from service.api.views import candidate_detail, candidates_public
from service.errors import Invalid
from service.review import QueueFilter

router = APIRouter(prefix="/api/candidates", tags=["candidates"], responses=error_responses(401, 422))


@router.get("", response_model=CandidatesPublic)
def list_candidates(
    user: UserDep,
    session: SessionDep,
    violation_type: Annotated[list[str], Query(description="Repeat for several.")] = [],  # noqa: B006
    class_name: Annotated[list[str], Query(description="Detector class; repeat for several.")] = [],  # noqa: B006
    status: Annotated[list[str], Query(description="open, confirmed, rejected, merged, closed; repeat.")] = [],  # noqa: B006
    camera_id: Annotated[list[int], Query()] = [],  # noqa: B006
    area: Annotated[str | None, Query(description="min_lat,min_lon,max_lat,max_lon (WGS-84 degrees).")] = None,
    seen_after: Annotated[
        AwareDatetime | None, Query(description="Last seen at or after (ISO-8601 with zone).")
    ] = None,
    seen_before: Annotated[AwareDatetime | None, Query(description="First seen before.")] = None,
    min_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    order: Literal["newest", "oldest", "score"] = "newest",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CandidatesPublic:
    """Candidates matching every filter given."""
    filters = QueueFilter(
        violation_types=tuple(violation_type),
        class_names=tuple(class_name),
        camera_ids=tuple(camera_id),
        area=parse_area(area),
        seen_after=seen_after,
        seen_before=seen_before,
        min_score=min_score,
        order=order,
    )
    items, count = candidate_store.list_candidates(
        session, statuses=tuple(status), filters=filters, limit=limit, offset=offset
    )
    return CandidatesPublic(items=candidates_public(session, items), count=count)


@router.get("/{candidate_id}", response_model=CandidateDetail, responses=error_responses(404))
def get_candidate(candidate_id: int, user: UserDep, session: SessionDep) -> CandidateDetail:
    """One candidate with every evidence file and its audit log."""
    return candidate_detail(session, candidate_store.get_candidate(session, candidate_id=candidate_id))


def parse_area(text: str | None) -> tuple[float, float, float, float] | None:
    """``"min_lat,min_lon,max_lat,max_lon"`` as four floats.

    Raises:
        Invalid: Not four numbers, or out of range.
    """
    if text is None:
        return None
    try:
        min_lat, min_lon, max_lat, max_lon = (float(part) for part in text.split(","))
    except ValueError as error:
        raise Invalid(f"{text!r} is not min_lat,min_lon,max_lat,max_lon", field="area") from error
    if not (-90 <= min_lat <= 90 and -90 <= max_lat <= 90 and -180 <= min_lon <= 180 and -180 <= max_lon <= 180):
        raise Invalid(f"{text!r} has a latitude beyond ±90 or a longitude beyond ±180", field="area")
    return min_lat, min_lon, max_lat, max_lon
