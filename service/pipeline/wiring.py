"""Wiring one source through the whole chain, shared by scans, evaluations and streams.

A source needs per-process services (database sessions, rules, the de-duplicating recorder, the evidence store),
per-source facts (where the camera is, when the video started, what its reference shows) and a detector. This
module puts them together the same way for every caller::

    services = RecordingServices.open(engine, evidence=EvidenceStore(folder))
    run = run_source(frames, detector=detector, settings=PipelineSettings.for_camera("patrol", names, 5.0),
                     services=services, locator=patrol_locator(track), context=context)
    print(run.stats.frames, run.counts.opened)
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from service.db import session_factory
from service.evidence import EvidenceStore
from service.pipeline.baseline import REFERENCE_LOOKALIKES, Baseline
from service.pipeline.locate import Locator, PatrolTrackLocator
from service.pipeline.record import RecordCounts, SightingRecorder, SourceContext
from service.pipeline.source import (
    DEFAULT_CONFIDENCE,
    REFERENCE_LOW_RATIO,
    FrameDetector,
    ModelDetector,
    PipelineSettings,
    SourcePipeline,
    SourceStats,
)
from service.rules import RuleBook
from service.violations.dedup import DedupSettings
from service.violations.recorder import Recorder
from service.violations.records import Recorded
from vision.frame import Frame
from vision.geo import GpsTrack, PatrolLocator, PatrolSettings
from vision.sighting import Sighting
from vision.taxonomy import load_taxonomy

OnRecorded = Callable[[Sighting, Recorded], object]


@dataclass(frozen=True)
class RecordingServices:
    """What every source of one process records through; build once per process (or per worker).

    Attributes:
        sessions: Opens a session on the database (one commit per sighting).
        rules: Persistence, zones and permits.
        recorder: Turns judged observations into sightings and de-duplicated candidates.
        evidence: Where evidence images go; ``None`` stores none.
    """

    sessions: Callable[[], Session]
    rules: RuleBook
    recorder: Recorder
    evidence: EvidenceStore | None

    @classmethod
    def open(
        cls,
        engine: Engine,
        *,
        rules: RuleBook | None = None,
        dedup: DedupSettings | None = None,
        evidence: EvidenceStore | None = None,
    ) -> RecordingServices:
        """Services on ``engine`` (its schema must exist); default rules and de-duplication when not given."""
        return cls(session_factory(engine), rules or RuleBook(), Recorder(dedup), evidence)


@dataclass(frozen=True)
class SourceRun:
    """What running one source did.

    Attributes:
        stats: Frames detected, detections, sightings (from the vision half).
        counts: What became of the sightings: opened, attached, dropped, duplicates (from the service half).
        skipped: Sightings not handed to the recorder because an earlier run had recorded them already.
    """

    stats: SourceStats
    counts: RecordCounts
    skipped: int = 0

    @property
    def hits(self) -> int:
        """Sightings that became or joined a candidate in this run."""
        return self.counts.opened + self.counts.attached


def detector_names(detector: FrameDetector) -> tuple[str, ...]:
    """The detector's class names by class id; the shipped taxonomy's when it does not say."""
    names = getattr(detector, "names", None)
    return tuple(names) if names else tuple(load_taxonomy().class_names)


def detector_confidence(detector: FrameDetector) -> float:
    """The detector's operating confidence (`ModelDetector.operating_conf`): tracks start at it; 0.25 when it
    does not say (ground truth and test fakes, whose detections are all at or above what they mean)."""
    confidence = getattr(detector, "operating_conf", None)
    return float(confidence) if confidence is not None else DEFAULT_CONFIDENCE


def tracking_settings(kind: str | None, detector: FrameDetector, fps: float) -> PipelineSettings:
    """`PipelineSettings.for_camera` for ``detector``: its class names and operating confidence."""
    return PipelineSettings.for_camera(kind, detector_names(detector), fps, detector_confidence(detector))


def patrol_locator(track: GpsTrack | Path | str, settings: PatrolSettings | None = None) -> PatrolTrackLocator:
    """A patrol vehicle's locator from its GPS track (a loaded track or a GPX / NMEA / CSV file).

    Raises:
        vision.geo.TrackError: The track file is missing or malformed (the message names file and line).
    """
    loaded = track if isinstance(track, GpsTrack) else GpsTrack.load(track)
    return PatrolTrackLocator(loaded, PatrolLocator(settings or PatrolSettings()))


def reference_baseline(detector: FrameDetector, reference: Frame, class_names: Sequence[str] | None = None) -> Baseline:
    """What a fixed camera's reference image shows, detected once, so the same objects are not raised as new.

    A model detects the reference down to ``REFERENCE_LOW_RATIO`` of its operating confidence, lower than the frames
    it tracks: a static object it sees only weakly must still count as there before (see `service.pipeline.source`).
    """
    names = tuple(class_names) if class_names is not None else detector_names(detector)
    if isinstance(detector, ModelDetector):
        detector = replace(detector, low_ratio=REFERENCE_LOW_RATIO)
    taken_at = reference.wall_time
    if taken_at is None:
        raise ValueError(f"{reference.source_id}: a reference frame needs its wall time (when it was taken)")
    return Baseline(detector.detect_frames([reference])[0], names, taken_at, lookalikes=REFERENCE_LOOKALIKES)


def run_source(
    frames: Iterable[Frame],
    *,
    detector: FrameDetector,
    settings: PipelineSettings,
    services: RecordingServices,
    locator: Locator | None,
    context: SourceContext,
    baseline: Baseline | None = None,
    already_recorded: Collection[str] = (),
    on_recorded: OnRecorded | None = None,
) -> SourceRun:
    """Detects, tracks and records one source's frames; every sighting is committed as its track ends.

    Args:
        frames: The source's frames in time order (sampled, gated: whatever should be detected).
        detector: Finds objects in batches of frames.
        settings: How the source is tracked (see `PipelineSettings.for_camera`).
        services: Database, rules, recorder, evidence.
        locator: Places sightings on the map; ``None`` leaves them unlocated (they cannot become candidates).
        context: The source's id, start time and camera.
        baseline: Objects the camera's reference image shows (not new).
        already_recorded: Track keys of this source an earlier, interrupted run recorded; those sightings are
            skipped before any evidence is written (the recorder would ignore them anyway). Track ids are the same
            when the same frames are tracked again.
        on_recorded: Called with each sighting and what recording it did.

    Returns:
        Counts over the source. Frames read before a source fails are still tracked and recorded, then the
        error propagates.
    """
    sink = SightingRecorder(
        sessions=services.sessions,
        rules=services.rules,
        recorder=services.recorder,
        evidence=services.evidence,
        locator=locator,
        context=context,
        baseline=baseline,
    )
    skip = frozenset(already_recorded)
    skipped = 0

    def handle(sighting: Sighting) -> None:
        nonlocal skipped
        if str(sighting.track_id) in skip:
            skipped += 1
            return
        outcome = sink.handle(sighting)
        if on_recorded is not None:
            on_recorded(sighting, outcome)

    stats = SourcePipeline(detector, settings).run(frames, handle)
    return SourceRun(stats, sink.counts, skipped)
