"""Evidence files: stored safely with their SHA-256, and rendered from sightings (see :mod:`vision.evidence`)."""

from service.evidence.sighting import save_sighting_evidence
from service.evidence.store import (
    EVIDENCE_KINDS,
    EvidenceError,
    EvidenceNotFound,
    EvidenceStore,
    StoredEvidence,
    UnsafeEvidencePath,
)

__all__ = [
    "EVIDENCE_KINDS",
    "EvidenceError",
    "EvidenceNotFound",
    "EvidenceStore",
    "StoredEvidence",
    "UnsafeEvidencePath",
    "save_sighting_evidence",
]
