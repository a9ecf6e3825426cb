"""The service half of the pipeline: an ended sighting is located, judged, given evidence and recorded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from service.evidence import EvidenceStore, save_sighting_evidence
from service.pipeline.baseline import Baseline
from service.pipeline.locate import Locator
from service.rules import RuleBook
from service.violations.observation import Observation
from service.violations.recorder import Recorder
from service.violations.records import DROPPED, DUPLICATE, EvidenceRecord, Recorded
from vision.sighting import Sighting


@dataclass(frozen=True)
class SourceContext:
    """What the service knows about one source beyond its frames.

    Attributes:
        source_id: The file or stream, as frames name it.
        video_start: Wall time of the source's timestamp 0 (timezone-aware), used when frames carry no wall time.
        camera_key: The department's camera name, if the source belongs to a registered camera.
        camera_kind: ``fixed``, ``ptz`` or ``patrol``.
        camera_name: A human name for captions.
    """

    source_id: str
    video_start: datetime
    camera_key: str | None = None
    camera_kind: str | None = None
    camera_name: str | None = None

    def __post_init__(self) -> None:
        if self.video_start.tzinfo is None:
            raise ValueError(f"{self.source_id}: video_start must be timezone-aware")

    def wall_time(self, sighting: Sighting, source_time: float) -> datetime:
        """Absolute time of ``source_time`` seconds into the source."""
        known = sighting.wall_time(source_time)
        return known if known is not None else self.video_start + timedelta(seconds=source_time)


@dataclass
class RecordCounts:
    """What happened to the sightings of one source."""

    sightings: int = 0
    opened: int = 0
    attached: int = 0
    dropped: int = 0
    duplicates: int = 0
    drop_reasons: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: Recorded) -> None:
        """Count one recording."""
        self.sightings += 1
        if outcome.action == DROPPED:
            self.dropped += 1
            reason = outcome.drop_reason or ""
            self.drop_reasons[reason] = self.drop_reasons.get(reason, 0) + 1
        elif outcome.action == DUPLICATE:
            self.duplicates += 1
        elif outcome.action == "opened":
            self.opened += 1
        else:
            self.attached += 1


class SightingRecorder:
    """Turns each ended sighting into an observation, judges it, stores evidence and records it (one commit each).

    A sighting is committed on its own so a scan killed mid-source keeps what it recorded, and a restart that sees
    the same track again finds it by ``(source, track_key)`` instead of counting it twice.
    """

    def __init__(
        self,
        *,
        sessions: Callable[[], Session],
        rules: RuleBook,
        recorder: Recorder,
        evidence: EvidenceStore | None,
        locator: Locator | None,
        context: SourceContext,
        baseline: Baseline | None = None,
    ) -> None:
        self.sessions = sessions
        self.rules = rules
        self.recorder = recorder
        self.evidence = evidence
        self.locator = locator
        self.context = context
        self.baseline = baseline
        self.counts = RecordCounts()

    def handle(self, sighting: Sighting) -> Recorded:
        """Record one sighting; evidence files are written only for sightings the rules accept."""
        context = self.context
        seen_at = context.wall_time(sighting, _best_time(sighting))
        location = self.locator.locate(sighting, seen_at) if self.locator is not None else None
        box = tuple(float(v) for v in sighting.best_box)
        observation = Observation(
            source=context.source_id,
            track_key=str(sighting.track_id),
            class_name=sighting.class_name,
            first_seen=context.wall_time(sighting, sighting.first_time),
            last_seen=context.wall_time(sighting, sighting.last_time),
            frames_seen=sighting.frames_seen,
            score=sighting.score,
            location=location,
            camera_key=context.camera_key,
            camera_kind=context.camera_kind,
            box=(box[0], box[1], box[2], box[3]),
            frames_tracked=sighting.frames_tracked,
        )
        verdict = self.rules.judge(observation)
        not_new = self.baseline.explains(sighting) if self.baseline is not None and verdict.accepted else None
        if not_new is not None:
            verdict = replace(verdict, accepted=False, reason=not_new)
        records: list[EvidenceRecord] = []
        if verdict.accepted and location is not None and self.evidence is not None:
            # Evidence carries the absolute time (captions, file dates) even when the video's frames have none.
            timed = replace(sighting, best_frame=replace(sighting.best_frame, wall_time=seen_at))
            stored = save_sighting_evidence(self.evidence, timed, camera_name=context.camera_name, location=location)
            # The clean frame too: the review export labels it with the sighting's box for the next training round.
            clean = self.evidence.save(sighting.best_frame.image, kind="source", taken_at=seen_at, name_hint="source")
            records = [EvidenceRecord(s.kind, s.relative_path, s.sha256, s.taken_at) for s in [*stored, clean]]
        with self.sessions() as session:
            outcome = self.recorder.record(session, observation, verdict, evidence=records)
            session.commit()
        self.counts.add(outcome)
        return outcome


def _best_time(sighting: Sighting) -> float:
    return sighting.best_frame.timestamp


def utc_from_timestamp(seconds: float) -> datetime:
    """A POSIX timestamp as an aware UTC datetime (file modification times)."""
    return datetime.fromtimestamp(seconds, UTC)
