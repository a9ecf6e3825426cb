"""The service half of the pipeline as the pipeline tests build it: a fixed camera's `SightingRecorder`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from service.evidence import EvidenceStore
from service.pipeline.baseline import Baseline
from service.pipeline.locate import CameraPositionLocator
from service.pipeline.record import SightingRecorder, SourceContext
from service.rules import RuleBook
from service.violations.recorder import Recorder
from vision.frame import GeoPoint


def fixed_camera_recorder(
    sessions: Callable[[], Session],
    source_id: str,
    start: datetime,
    *,
    camera_key: str | None = None,
    camera_name: str | None = None,
    at: GeoPoint | None = None,
    evidence: EvidenceStore | None = None,
    baseline: Baseline | None = None,
) -> SightingRecorder:
    """A recorder for a fixed camera with no zones or permits; placed at ``at`` (unlocated without it)."""
    return SightingRecorder(
        sessions=sessions,
        rules=RuleBook(),
        recorder=Recorder(),
        evidence=evidence,
        locator=None if at is None else CameraPositionLocator(at),
        context=SourceContext(source_id, start, camera_key=camera_key, camera_kind="fixed", camera_name=camera_name),
        baseline=baseline,
    )
