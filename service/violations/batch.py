"""The working state of one ``Recorder.record_many`` call: de-duplication in memory, written at the end.

The batch starts from the database: every attachable candidate inside any of its observations' search boxes,
and when those candidates were seen by the batch's sources. From there it decides in memory, observation by
observation and in order, exactly as recording them one by one would: candidates it opens get a provisional
(negative) id, candidates it attaches to change here. :meth:`RecordingBatch.write` then stores new candidates,
changed candidates, sightings and evidence with one statement each.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from service.violations import queries
from service.violations.dedup import NearbyCandidate, SearchBox, Span
from service.violations.observation import Observation
from service.violations.records import DROPPED, DUPLICATE, EvidenceRecord, Recorded

# Cell side of the in-memory candidate grid, degrees (about 110 m north-south): a 50 m box spans 2 x 2 cells.
GRID_DEGREES = 0.001


@dataclass(frozen=True)
class _Repeat:
    """A recording whose (source, track_key) came earlier in the same batch: index of that row."""

    row: int


@dataclass(frozen=True)
class _Opened:
    """What a candidate opened by the batch needs besides its changing state."""

    event_code: str
    camera_id: int | None


Cell = tuple[str, int, int]


class RecordingBatch:
    """Candidates near a batch, and the sightings recorded against them, until written."""

    def __init__(
        self,
        existing: dict[tuple[str, str], queries.StoredSighting],
        candidates: Iterable[NearbyCandidate],
        spans: dict[int, list[Span]],
    ) -> None:
        """Args:
        existing: Sightings already stored for the batch's keys (their recordings are duplicates).
        candidates: Attachable candidates inside the batch's search boxes, as stored.
        spans: When the batch's sources saw those candidates, around the batch's time range.
        """
        self.existing = existing
        self.spans = spans
        self.state: dict[int, NearbyCandidate] = {}
        self.grid: dict[Cell, set[int]] = {}
        for candidate in candidates:
            self._place(candidate)
        self.changed: set[int] = set()
        self.opened: dict[int, _Opened] = {}
        self.rows: list[dict[str, Any]] = []
        self.actions: list[str] = []
        self.evidence: list[tuple[EvidenceRecord, ...]] = []
        self.outcomes: list[Recorded | _Repeat | int] = []
        self.row_of_key: dict[tuple[str, str], int] = {}

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

    def nearby(self, violation_type: str, box: SearchBox, observation: Observation) -> list[NearbyCandidate]:
        """Candidates of ``violation_type`` in ``box`` now, minus those seen together with ``observation``."""
        rows = range(math.floor(box.south / GRID_DEGREES), math.floor(box.north / GRID_DEGREES) + 1)
        columns = range(math.floor(box.west / GRID_DEGREES), math.floor(box.east / GRID_DEGREES) + 1)
        found = []
        for row in rows:
            for column in columns:
                for candidate_id in self.grid.get((violation_type, row, column), ()):
                    if not any(span.overlaps(observation) for span in self.spans.get(candidate_id, ())):
                        found.append(self.state[candidate_id])
        return found

    def open(self, candidate: NearbyCandidate, *, event_code: str, camera_id: int | None) -> int:
        """Open a candidate (``candidate.id`` is ignored); its provisional id."""
        provisional = -1 - len(self.opened)
        self.opened[provisional] = _Opened(event_code, camera_id)
        self._place(replace(candidate, id=provisional))
        return provisional

    def attach(self, after: NearbyCandidate) -> None:
        """Replace a candidate's state by ``after`` (its id unchanged)."""
        self._unplace(after.id)
        self._place(after)
        self.changed.add(after.id)

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
            span = Span(observation.source, observation.first_seen, observation.last_seen)
            self.spans.setdefault(candidate_id, []).append(span)

    def write(self, session: Session) -> list[Recorded]:
        """Store new and changed candidates, sightings and evidence; one outcome per recording, in order."""
        new_ids = queries.insert_candidates(session, rows=[self._candidate_row(i) for i in self.opened])
        real = dict(zip(self.opened, new_ids, strict=True))
        queries.update_candidates(session, candidates=[self.state[i] for i in self.changed if i not in real])
        for row in self.rows:
            row["candidate_id"] = real.get(row["candidate_id"], row["candidate_id"])
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

    def _candidate_row(self, provisional: int) -> dict[str, Any]:
        candidate, opened = self.state[provisional], self.opened[provisional]
        return {
            "violation_type": candidate.violation_type,
            "event_code": opened.event_code,
            "class_name": candidate.class_name,
            "status": "open",
            "lat": candidate.lat,
            "lon": candidate.lon,
            "accuracy_m": candidate.accuracy_m,
            "camera_id": opened.camera_id,
            "first_seen": candidate.first_seen,
            "last_seen": candidate.last_seen,
            "sightings_count": candidate.sightings_count,
            "score": candidate.score,
        }

    def _cell(self, candidate: NearbyCandidate) -> Cell:
        return (
            candidate.violation_type,
            math.floor(candidate.lat / GRID_DEGREES),
            math.floor(candidate.lon / GRID_DEGREES),
        )

    def _place(self, candidate: NearbyCandidate) -> None:
        self.state[candidate.id] = candidate
        self.grid.setdefault(self._cell(candidate), set()).add(candidate.id)

    def _unplace(self, candidate_id: int) -> None:
        self.grid[self._cell(self.state[candidate_id])].discard(candidate_id)
