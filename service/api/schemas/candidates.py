"""Candidates (suspected violations), their evidence and their review history."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from service.api.schemas.common import PublicModel, UTCTime


class EvidencePublic(PublicModel):
    """One evidence file; ``url`` serves it (``/api/evidence/<path>``), ``null`` when it lies outside the evidence
    folder (images of external detections ingested from the command line keep their own path)."""

    id: int
    kind: str
    path: str
    sha256: str
    taken_at: UTCTime
    url: str | None


class ReviewActionPublic(PublicModel):
    """One entry of the audit log."""

    id: int
    candidate_id: int
    user_id: int | None
    action: str
    reason: str | None
    note: str | None
    details: dict[str, Any] | None
    undone_by_id: int | None
    created_at: UTCTime


class CandidatePublic(PublicModel):
    """A candidate with its evidence."""

    id: int
    violation_type: str
    event_code: str
    class_name: str
    status: str
    lat: float
    lon: float
    accuracy_m: float | None
    camera_id: int | None
    first_seen: UTCTime
    last_seen: UTCTime
    sightings_count: int
    score: float
    merged_into_id: int | None
    claimed_by_id: int | None
    claim_expires_at: UTCTime | None
    created_at: UTCTime
    updated_at: UTCTime
    evidence: list[EvidencePublic] = Field(default_factory=list)


class CandidateDetail(CandidatePublic):
    """A candidate with its evidence and audit log."""

    history: list[ReviewActionPublic] = Field(default_factory=list)


class CandidatesPublic(PublicModel):
    """A page of candidates and how many match in all."""

    items: list[CandidatePublic]
    count: int
