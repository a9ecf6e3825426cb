"""Record observations and their verdicts: sighting rows, and for accepted ones new or attached candidates.

Example::

    recorder = Recorder(DedupSettings(radius_m={**DEFAULT_RADII_M, "illegal_construction": 30.0}))
    with session_factory(engine)() as session:
        outcome = recorder.record(session, observation, rule_book.judge(observation), evidence=stored_files)
        session.commit()

``record_many`` does the same for a list, in order, and gives the same result as recording them one by one; it
reads the candidates near all of them in one search, decides in memory (:mod:`service.violations.batch`) and
writes with one statement per table, so use it for a work unit (a video's tracks, a batch of ingested lines).

Idempotent: ``(source, track_key)`` identifies a sighting, and recording it again changes nothing (a resumed scan
does not count twice). Safe with several writers on one database. PostgreSQL: each call takes transaction-level
advisory locks, all at once and in one order, on the ~1 km grid cells its observations lie in (per violation
type) and on their sources, so two workers that see one object at once do not both open a candidate. Call it once
per transaction there: a second call in the same transaction takes more locks later, which can deadlock with
another writer (PostgreSQL then aborts one transaction; retry it). SQLite: the call first takes the database's
write lock, which serialises writers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from service.violations import queries
from service.violations.batch import RecordingBatch
from service.violations.dedup import (
    DedupSettings,
    NearbyCandidate,
    SearchBox,
    attach,
    choose_candidate,
    first_accuracy,
    lock_key,
)
from service.violations.observation import Observation
from service.violations.records import ATTACHED, OPENED, EvidenceRecord, Recorded
from service.violations.verdicts import VerdictLike

NOT_LOCATED = "not located: a candidate needs a position"
NO_VIOLATION_TYPE = "accepted without a violation type"


@dataclass(frozen=True)
class Recording:
    """One observation to record, with the rules' verdict and the evidence files already stored for it."""

    observation: Observation
    verdict: VerdictLike
    evidence: tuple[EvidenceRecord, ...] = ()


class Recorder:
    """Turns observations with verdicts into sightings and de-duplicated candidates in the caller's session."""

    def __init__(self, settings: DedupSettings | None = None) -> None:
        """Args:
        settings: Radii, class matching and the window of decided candidates (:class:`DedupSettings`); every
            writer of a database should use the same.
        """
        self.settings = settings or DedupSettings()
        self._camera_ids: dict[str, int | None] = {}

    def record(
        self,
        session: Session,
        observation: Observation,
        verdict: VerdictLike,
        evidence: Sequence[EvidenceRecord] = (),
    ) -> Recorded:
        """Store one observation; does not commit.

        Args:
            session: The caller's session; its transaction holds the writes and the locks.
            observation: What was seen.
            verdict: The rules' decision. An accepted observation without a location or a violation type is
                stored as dropped, with the reason.
            evidence: Files already stored for this sighting; kept with its candidate (ignored when dropped).

        Returns:
            What happened: ``opened``, ``attached``, ``dropped`` or ``duplicate`` (recorded before: no change).
        """
        return self.record_many(session, [Recording(observation, verdict, tuple(evidence))])[0]

    def record_many(self, session: Session, recordings: Sequence[Recording]) -> list[Recorded]:
        """Store observations in order, as :meth:`record` would one by one; does not commit.

        Returns:
            One outcome per recording, in the same order.
        """
        if not recordings:
            return []
        reasons = [_drop_reason(recording.observation, recording.verdict) for recording in recordings]
        boxes = [
            None if reason is not None else self._box(recording.observation, recording.verdict)
            for recording, reason in zip(recordings, reasons, strict=True)
        ]
        keys = {lock_key(f"source:{recording.observation.source}") for recording in recordings}
        for recording, box in zip(recordings, boxes, strict=True):
            if box is not None:
                keys |= box.lock_keys(str(recording.verdict.violation_type))
        queries.lock_for_recording(session, keys=sorted(keys))
        batch = self._start_batch(session, recordings, boxes)
        for recording, reason, box in zip(recordings, reasons, boxes, strict=True):
            observation = recording.observation
            if batch.is_duplicate(observation):
                continue
            camera_id = self._camera_id(session, observation.camera_key)
            if reason is not None or box is None:
                row = queries.sighting_row(
                    observation, camera_id=camera_id, status="dropped", drop_reason=reason, candidate_id=None
                )
                batch.add(observation, row)
                continue
            candidate_id, action = self._dedup(recording, box, camera_id, batch)
            row = queries.sighting_row(
                observation, camera_id=camera_id, status="candidate", drop_reason=None, candidate_id=candidate_id
            )
            batch.add(observation, row, action=action, evidence=recording.evidence)
        return batch.write(session)

    def _start_batch(
        self, session: Session, recordings: Sequence[Recording], boxes: Sequence[SearchBox | None]
    ) -> RecordingBatch:
        """Read what the batch needs: stored sightings of its keys, candidates near it and when they were seen."""
        observations = [recording.observation for recording in recordings]
        existing = queries.existing_sightings(session, keys=[(o.source, o.track_key) for o in observations])
        searched = [
            (str(recording.verdict.violation_type), box)
            for recording, box in zip(recordings, boxes, strict=True)
            if box is not None
        ]
        since = min(o.first_seen for o in observations) - self.settings.window
        candidates = queries.candidates_near(session, boxes=searched, since=since) if searched else []
        spans = {}
        if candidates:
            spans = queries.sighting_spans(
                session,
                candidate_ids=[candidate.id for candidate in candidates],
                sources={o.source for o in observations},
                first_seen=min(o.first_seen for o in observations),
                last_seen=max(o.last_seen for o in observations),
            )
        return RecordingBatch(existing, candidates, spans)

    def _dedup(
        self, recording: Recording, box: SearchBox, camera_id: int | None, batch: RecordingBatch
    ) -> tuple[int, str]:
        """Attach to the nearest eligible candidate or open one; the candidate's (provisional) id and the action."""
        observation, verdict = recording.observation, recording.verdict
        location = observation.location
        violation_type = verdict.violation_type
        assert location is not None and violation_type is not None  # checked by _drop_reason
        chosen = choose_candidate(
            batch.nearby(violation_type, box, observation),
            observation,
            violation_type=violation_type,
            settings=self.settings,
        )
        if chosen is not None:
            batch.attach(attach(chosen, observation))
            return chosen.id, ATTACHED
        opened = NearbyCandidate(
            id=0,
            violation_type=violation_type,
            class_name=observation.class_name,
            lat=location.lat,
            lon=location.lon,
            accuracy_m=first_accuracy(location.accuracy_m),
            first_seen=observation.first_seen,
            last_seen=observation.last_seen,
            sightings_count=1,
            score=observation.score,
            status="open",
            case_open=False,
        )
        provisional = batch.open(opened, event_code=verdict.event_code or "", camera_id=camera_id)
        return provisional, OPENED

    def _box(self, observation: Observation, verdict: VerdictLike) -> SearchBox:
        assert observation.location is not None and verdict.violation_type is not None
        radius_m = self.settings.search_radius_m(verdict.violation_type, observation.location.accuracy_m)
        return SearchBox.around(observation.location.lat, observation.location.lon, radius_m)

    def _camera_id(self, session: Session, key: str | None) -> int | None:
        # Cameras are registered rarely; one lookup per key per recorder (an unknown key stays unknown).
        if key is None:
            return None
        if key not in self._camera_ids:
            self._camera_ids[key] = queries.camera_id(session, key=key)
        return self._camera_ids[key]


def _drop_reason(observation: Observation, verdict: VerdictLike) -> str | None:
    if not verdict.accepted:
        return verdict.reason or "dropped by the rules"
    if observation.location is None:
        return NOT_LOCATED
    if not verdict.violation_type:
        return NO_VIOLATION_TYPE
    return None
