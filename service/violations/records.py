"""The small value types the violations area hands in and out (database rows stay inside the queries)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Recorded.action values.
OPENED = "opened"  # accepted; opened a new candidate
ATTACHED = "attached"  # accepted; attached to an existing candidate
DROPPED = "dropped"  # stored as a dropped sighting with its reason
DUPLICATE = "duplicate"  # (source, track_key) was recorded before; nothing changed
ACTIONS = (OPENED, ATTACHED, DROPPED, DUPLICATE)


@dataclass(frozen=True)
class EvidenceRecord:
    """An evidence file already stored (by the evidence store, or given by an external system).

    Attributes:
        kind: ``frame``, ``crop`` or ``comparison``.
        path: Where the file is (relative to the evidence folder when the evidence store wrote it).
        sha256: Hex SHA-256 of the file's bytes.
        taken_at: When the picture was taken (timezone-aware).
    """

    kind: str
    path: str
    sha256: str
    taken_at: datetime

    def __post_init__(self) -> None:
        if self.taken_at.tzinfo is None:
            raise ValueError(f"evidence {self.path}: taken_at must be timezone-aware")
        if len(self.sha256) != 64:
            raise ValueError(f"evidence {self.path}: sha256 must be 64 hex digits, got {self.sha256!r}")


@dataclass(frozen=True)
class Recorded:
    """What recording one observation did.

    Attributes:
        sighting_id: The sighting row (the earlier one for a duplicate).
        action: ``opened``, ``attached``, ``dropped`` or ``duplicate``.
        candidate_id: The candidate it belongs to, if any.
        drop_reason: Why it was dropped (``dropped``, or a ``duplicate`` of a dropped sighting).
    """

    sighting_id: int
    action: str
    candidate_id: int | None = None
    drop_reason: str | None = None


@dataclass(frozen=True)
class CandidateSummary:
    """One candidate as listed for people and other programs.

    Attributes:
        id: Candidate id.
        violation_type: ``street_occupation``, ``illegal_advertising`` or ``illegal_construction``.
        event_code: GB/T 30428.2 event code (``0501`` …).
        class_name: Detector class of the sighting that opened it.
        status: ``open``, ``confirmed``, ``rejected``, ``merged`` or ``closed``.
        lat: Latitude of the refined position.
        lon: Longitude of the refined position.
        accuracy_m: Uncertainty of that position in metres, if known.
        first_seen: First time it was seen.
        last_seen: Last time it was seen.
        sightings: Sightings attached.
        score: Best sighting score.
        evidence: The newest evidence file of each kind, newest first.
    """

    id: int
    violation_type: str
    event_code: str
    class_name: str
    status: str
    lat: float
    lon: float
    accuracy_m: float | None
    first_seen: datetime
    last_seen: datetime
    sightings: int
    score: float
    evidence: tuple[EvidenceRecord, ...] = ()
