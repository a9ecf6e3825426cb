"""Ingest detections from other systems (JSON lines) into sightings and de-duplicated candidates.

Detections with the same ``(source, track_id)`` form one observation: first/last time, frames, mean confidence,
mean position, the most frequent class and the most confident detection's box and image. A detection without a
track id is an observation of its own, keyed by a hash of its line, so ingesting the same file again changes
nothing. Observations are judged, recorded and committed in batches: a crash loses at most the batch in flight,
and a re-run skips what was committed.

Example::

    ingest = Ingest(Recorder(), taxonomy_judge(taxonomy), known_classes=taxonomy.class_names)
    with open("detections.jsonl") as lines:
        report = ingest.run(lines, session_factory(engine), base_dir=Path("."))
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from service.violations.detection_lines import Detection, LineError, parse_line
from service.violations.observation import Observation
from service.violations.recorder import Recorder, Recording
from service.violations.records import ATTACHED, DROPPED, DUPLICATE, OPENED, EvidenceRecord
from service.violations.verdicts import Judge
from vision.frame import GeoPoint

DEFAULT_BATCH_SIZE = 500
# SQLSTATEs worth retrying a batch for (PostgreSQL): deadlock detected, serialization failure, and a unique
# violation (another process stored one of the batch's sightings first: the retry sees it as recorded).
RETRY_SQLSTATES = ("40P01", "40001", "23505")
RETRIES = 3


@dataclass(frozen=True)
class LineProblem:
    """Something wrong with one line.

    Attributes:
        line_number: 1-based line number.
        message: What is wrong, naming the field.
        skipped: ``True`` when the line was not ingested; ``False`` for a warning (e.g. its image is missing).
    """

    line_number: int
    message: str
    skipped: bool


@dataclass(frozen=True)
class IngestReport:
    """What an ingest did.

    Attributes:
        lines: Non-blank lines read.
        bad: Lines skipped as bad.
        observations: Observations formed (one per track, one per untracked detection).
        sightings: New sightings stored (dropped ones included); duplicates are not new.
        opened: Candidates opened.
        attached: Sightings attached to an existing candidate.
        dropped: Sightings the rules dropped.
        duplicates: Observations recorded before (a re-run).
        missing_images: Lines whose image file was not found (the detection went in without evidence).
    """

    lines: int = 0
    bad: int = 0
    observations: int = 0
    sightings: int = 0
    opened: int = 0
    attached: int = 0
    dropped: int = 0
    duplicates: int = 0
    missing_images: int = 0


@dataclass(frozen=True)
class _Image:
    path: Path
    taken_at: datetime
    line_number: int


@dataclass(frozen=True)
class _Pending:
    observation: Observation
    images: tuple[_Image, ...]


@dataclass
class _Track:
    """Running aggregate of one external track's detections."""

    first: Detection
    count: int = 0
    confidence_sum: float = 0.0
    lat_sum: float = 0.0
    lon_sum: float = 0.0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    classes: Counter[str] = field(default_factory=Counter)
    best: Detection | None = None
    camera: str | None = None

    def add(self, detection: Detection) -> None:
        self.count += 1
        self.confidence_sum += detection.confidence
        self.lat_sum += detection.lat
        self.lon_sum += detection.lon
        self.classes[detection.class_name] += 1
        self.camera = self.camera or detection.camera
        if self.first_seen is None or detection.time < self.first_seen:
            self.first_seen = detection.time
        if self.last_seen is None or detection.time > self.last_seen:
            self.last_seen = detection.time
        if self.best is None or detection.confidence > self.best.confidence:
            self.best = detection

    def pending(self, *, missing: set[int]) -> _Pending:
        assert self.best is not None and self.first_seen is not None and self.last_seen is not None
        observation = Observation(
            source=self.first.source,
            track_key=f"track:{self.first.track_id}",
            class_name=self.classes.most_common(1)[0][0],
            first_seen=self.first_seen,
            last_seen=self.last_seen,
            frames_seen=self.count,
            score=self.confidence_sum / self.count,
            location=GeoPoint(self.lat_sum / self.count, self.lon_sum / self.count),
            camera_key=self.camera,
            box=self.best.box,
        )
        return _Pending(observation, _images(self.best, missing=missing))


class Ingest:
    """Reads detection lines, forms observations, judges and records them in committed batches."""

    def __init__(
        self,
        recorder: Recorder,
        judge: Judge,
        *,
        known_classes: Collection[str],
        batch_size: int = DEFAULT_BATCH_SIZE,
        on_problem: Callable[[LineProblem], None] | None = None,
    ) -> None:
        """Args:
        recorder: Records each observation (its settings decide the de-duplication).
        judge: The rules: ``judge(observation) -> verdict``.
        known_classes: Class names accepted in lines.
        batch_size: Observations per transaction.
        on_problem: Called for each bad line and warning, in line order (default: ignore).
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.recorder = recorder
        self.judge = judge
        self.known_classes = known_classes
        self.batch_size = batch_size
        self.on_problem = on_problem or (lambda problem: None)

    def run(self, lines: Iterable[str], sessions: sessionmaker[Session], *, base_dir: Path) -> IngestReport:
        """Ingest every good line of ``lines``; bad lines are reported and skipped.

        Args:
            lines: The JSONL text, line by line.
            sessions: Opens a session per batch.
            base_dir: Folder relative image paths start from.

        Returns:
            Counts of what was read and done.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: The database failed; batches committed before stay committed.
        """
        counts: Counter[str] = Counter()
        tracks: dict[tuple[str, str], _Track] = {}
        missing: set[int] = set()
        batch: list[_Pending] = []
        for line_number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            counts["lines"] += 1
            try:
                detection = parse_line(
                    text, line_number=line_number, known_classes=self.known_classes, base_dir=base_dir
                )
            except LineError as error:
                counts["bad"] += 1
                self.on_problem(LineProblem(line_number, str(error), skipped=True))
                continue
            if detection.image is not None and not detection.image.is_file():
                missing.add(line_number)
                counts["missing_images"] += 1
                message = f"line {line_number}: image: {detection.image} not found; ingested without evidence"
                self.on_problem(LineProblem(line_number, message, skipped=False))
            if detection.track_id is None:
                batch.append(_single(detection, missing=missing))
            else:
                tracks.setdefault((detection.source, detection.track_id), _Track(first=detection)).add(detection)
            if len(batch) >= self.batch_size:
                self._flush(batch, sessions, counts)
                batch = []
        # Tracks are complete only at the end of the file.
        for track in tracks.values():
            batch.append(track.pending(missing=missing))
            if len(batch) >= self.batch_size:
                self._flush(batch, sessions, counts)
                batch = []
        self._flush(batch, sessions, counts)
        return IngestReport(**{name: counts[name] for name in IngestReport.__dataclass_fields__})

    def _flush(self, batch: list[_Pending], sessions: sessionmaker[Session], counts: Counter[str]) -> None:
        """Record and commit one batch; retried from the start if PostgreSQL aborts it for a deadlock."""
        if not batch:
            return
        evidence = [self._evidence(pending.images, counts) for pending in batch]
        for attempt in range(RETRIES):
            try:
                with sessions() as session:
                    recordings = [
                        Recording(pending.observation, self.judge(pending.observation), files)
                        for pending, files in zip(batch, evidence, strict=True)
                    ]
                    done = Counter(outcome.action for outcome in self.recorder.record_many(session, recordings))
                    session.commit()
            except DBAPIError as error:
                if getattr(error.orig, "sqlstate", None) in RETRY_SQLSTATES and attempt + 1 < RETRIES:
                    continue
                raise
            break
        counts["observations"] += len(batch)
        counts["sightings"] += len(batch) - done[DUPLICATE]
        counts["opened"] += done[OPENED]
        counts["attached"] += done[ATTACHED]
        counts["dropped"] += done[DROPPED]
        counts["duplicates"] += done[DUPLICATE]

    def _evidence(self, images: tuple[_Image, ...], counts: Counter[str]) -> tuple[EvidenceRecord, ...]:
        """Hash each image into an evidence record; one that cannot be read is a warning, not a failure."""
        records = []
        for image in images:
            try:
                digest = hashlib.sha256(image.path.read_bytes()).hexdigest()
            except OSError as error:
                counts["missing_images"] += 1
                message = f"line {image.line_number}: image: cannot read {image.path}: {error.strerror or error}"
                self.on_problem(LineProblem(image.line_number, message, skipped=False))
                continue
            records.append(EvidenceRecord(kind="frame", path=str(image.path), sha256=digest, taken_at=image.taken_at))
        return tuple(records)


def _single(detection: Detection, *, missing: set[int]) -> _Pending:
    observation = Observation(
        source=detection.source,
        track_key=detection.line_key,
        class_name=detection.class_name,
        first_seen=detection.time,
        last_seen=detection.time,
        frames_seen=1,
        score=detection.confidence,
        location=GeoPoint(detection.lat, detection.lon),
        camera_key=detection.camera,
        box=detection.box,
    )
    return _Pending(observation, _images(detection, missing=missing))


def _images(detection: Detection, *, missing: set[int]) -> tuple[_Image, ...]:
    if detection.image is None or detection.line_number in missing:
        return ()
    return (_Image(detection.image, detection.time, detection.line_number),)
