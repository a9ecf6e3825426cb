"""Turning rows and service results into response bodies (shared by the candidate, review and case routes)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import quote

from sqlalchemy.orm import Session

from service.api.crud import candidates as candidate_store
from service.api.schemas.candidates import CandidateDetail, CandidatePublic, EvidencePublic, ReviewActionPublic
from service.api.schemas.cases import CasePublic
from service.cases import CaseView
from service.db.models import Candidate, Evidence
from service.review import history

EVIDENCE_URL = "/api/evidence/"


def evidence_public(evidence: Evidence) -> EvidencePublic:
    """An evidence row with the URL that serves its file (``None`` for a path outside the evidence folder)."""
    outside = PurePosixPath(evidence.path).is_absolute() or PureWindowsPath(evidence.path).is_absolute()
    return EvidencePublic(
        id=evidence.id,
        kind=evidence.kind,
        path=evidence.path,
        sha256=evidence.sha256,
        taken_at=evidence.taken_at,
        url=None if outside else EVIDENCE_URL + quote(evidence.path),
    )


def candidates_public(session: Session, candidates: Sequence[Candidate]) -> list[CandidatePublic]:
    """Candidates with their evidence (one query for all)."""
    evidence = candidate_store.evidence_of(session, candidate_ids=[candidate.id for candidate in candidates])
    return [
        CandidatePublic.model_validate(candidate).model_copy(
            update={"evidence": [evidence_public(item) for item in evidence[candidate.id]]}
        )
        for candidate in candidates
    ]


def candidate_detail(session: Session, candidate: Candidate) -> CandidateDetail:
    """A candidate with its evidence and its audit log."""
    [public] = candidates_public(session, [candidate])
    actions = [ReviewActionPublic.model_validate(action) for action in history(session, candidate_id=candidate.id)]
    return CandidateDetail(**public.model_dump(), history=actions)


def case_public(case: CaseView) -> CasePublic:
    """A case view as a response body."""
    return CasePublic.model_validate(case)
