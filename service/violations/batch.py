"""The working state of one ``Recorder.record_many`` call: what it decided, written to the database at the end.

New candidates are inserted at once (their id is needed); sightings, evidence and changes to existing candidates
wait for :meth:`RecordingBatch.write`, so a batch of hundreds costs a few statements more than its searches.
Until then the batch answers for them: candidates it changed are read from here rather than from the database,
the search box is widened by how far any of them has moved, and "seen together from the same source" also
looks at the batch's own sightings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from service.violations import queries
from service.violations.dedup import NearbyCandidate, SearchBox
from service.violations.observation import Observation
from service.violations.records import DROPPED, DUPLICATE, EvidenceRecord, Recorded


@dataclass(frozen=True)
class _Repeat:
    """A recording whose (source, track_key) came earlier in the same batch: index of that row."""

    row: int


class RecordingBatch:
    """Sightings and candidate changes of one batch, in recording order."""

    def __init__(self, existing: dict[tuple[str, str], queries.StoredSighting]) -> None:
        """Args:
        existing: Sightings already stored for the batch's keys (their recordings are duplicates).
        """
        self.existing = existing
        self.rows: list[dict[str, Any]] = []
        self.actions: list[str] = []
        self.evidence: list[tuple[EvidenceRecord, ...]] = []
        self.outcomes: list[Recorded | _Repeat | int] = []
        self.row_of_key: dict[tuple[str, str], int] = {}
        self.spans: dict[int, list[tuple[str, datetime, datetime]]] = {}
        self.changed: dict[int, NearbyCandidate] = {}
        self.stored_position: dict[int, tuple[float, float]] = {}
        self.drift_lat = 0.0
        self.drift_lon = 0.0

    def is_duplicate(self, observation: Observation) -> bool:
        """Whether the observation was recorded before or earlier in this batch (then its outcome is noted)."""
        key = (observation.source, observation.track_key)
        stored = self.existing.get(key)
        if stored is not None:
            self.outcomes.append(Recorded(stored.id, DUPLICATE, stored.candidate_id, stored.drop_reason))
            return True
        if key in self.row_of_key:
            self.outcomes.append(_Repeat(self.row_of_key[key]))
            return True
        return False

    def search_box(self, box: SearchBox) -> SearchBox:
        """``box`` widened so the database query also finds candidates this batch moved into it."""
        if not self.changed:
            return box
        return box.widened(self.drift_lat, self.drift_lon)

    def current(self, found: list[NearbyCandidate], observation: Observation) -> list[NearbyCandidate]:
        """The found candidates as this batch left them, minus those seen together with ``observation``."""
        latest = (self.changed.get(candidate.id, candidate) for candidate in found)
        return [candidate for candidate in latest if not self._seen_together(candidate.id, observation)]

    def attached(self, before: NearbyCandidate, after: NearbyCandidate) -> None:
        """Note a candidate's new state; the database gets it in :meth:`write`."""
        stored = self.stored_position.setdefault(before.id, (before.lat, before.lon))
        self.changed[after.id] = after
        self.drift_lat = max(self.drift_lat, abs(after.lat - stored[0]))
        self.drift_lon = max(self.drift_lon, abs(after.lon - stored[1]))

    def add(
        self,
        observation: Observation,
        row: dict[str, Any],
        *,
        action: str = DROPPED,
        evidence: tuple[EvidenceRecord, ...] = (),
    ) -> None:
        """Queue a new sighting row (from :func:`queries.sighting_row`) and what recording it did."""
        self.row_of_key[(observation.source, observation.track_key)] = len(self.rows)
        self.outcomes.append(len(self.rows))
        self.rows.append(row)
        self.actions.append(action)
        candidate_id = row["candidate_id"]
        self.evidence.append(evidence if candidate_id is not None else ())
        if candidate_id is not None:
            self.spans.setdefault(candidate_id, []).append(
                (observation.source, observation.first_seen, observation.last_seen)
            )

    def write(self, session: Session) -> list[Recorded]:
        """Write candidate changes, sightings and evidence; one outcome per recording, in order."""
        queries.update_candidates(session, candidates=list(self.changed.values()))
        ids = queries.insert_sightings(session, rows=self.rows)
        queries.insert_evidence(
            session,
            rows=[
                (row["candidate_id"], sighting_id, record)
                for row, sighting_id, records in zip(self.rows, ids, self.evidence, strict=True)
                for record in records
            ],
        )
        results = []
        for outcome in self.outcomes:
            if isinstance(outcome, Recorded):
                results.append(outcome)
                continue
            index = outcome.row if isinstance(outcome, _Repeat) else outcome
            action = DUPLICATE if isinstance(outcome, _Repeat) else self.actions[index]
            row = self.rows[index]
            results.append(Recorded(ids[index], action, row["candidate_id"], row["drop_reason"]))
        return results

    def _seen_together(self, candidate_id: int, observation: Observation) -> bool:
        return any(
            source == observation.source and first <= observation.last_seen and last >= observation.first_seen
            for source, first, last in self.spans.get(candidate_id, ())
        )
