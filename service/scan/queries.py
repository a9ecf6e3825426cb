"""What a scan reads from the rest of the database: its camera, the tracks already recorded, the candidates it touched.

Keyword-only functions taking the session; read-only.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.cameras.queries import get_camera
from service.db.models import Sighting
from service.references import ReferenceStore, current_reference
from service.scan.plan import CameraInfo
from service.violations.queries import candidate_summaries
from service.violations.records import CandidateSummary

_CHUNK = 500
T = TypeVar("T")


@dataclass(frozen=True)
class TouchedCandidate:
    """A candidate a scan's sources opened or attached to.

    Attributes:
        summary: The candidate as listed elsewhere (position, times, sightings, newest evidence).
        sources: The scan's sources that saw it.
    """

    summary: CandidateSummary
    sources: tuple[str, ...]


def camera_info(session: Session, *, key: str, references: ReferenceStore | None = None) -> CameraInfo:
    """The registered camera ``key`` with its current reference image (fixed and PTZ cameras).

    Raises:
        NotFound: No such camera.
    """
    camera = get_camera(session, key=key)
    reference_path = reference_taken_at = None
    if camera.kind in ("fixed", "ptz"):
        reference = current_reference(session, camera_key=key)
        if reference is not None:
            store = references or ReferenceStore()
            reference_path = str(store.resolve(reference.image_path))
            reference_taken_at = reference.taken_at
    return CameraInfo(
        key=camera.key,
        name=camera.name or camera.key,
        kind=camera.kind,
        lat=camera.lat,
        lon=camera.lon,
        calibration=dict(camera.calibration) if camera.calibration else None,
        settings=dict(camera.settings or {}),
        reference_path=reference_path,
        reference_taken_at=reference_taken_at,
    )


def recorded_tracks(session: Session, *, source: str) -> set[str]:
    """Track keys of ``source`` already recorded (by an earlier, interrupted run of the same scan)."""
    return set(session.scalars(select(Sighting.track_key).where(Sighting.source == source)))


def source_totals(session: Session, *, source: str) -> tuple[int, int]:
    """How many sightings ``source`` has, and how many of them belong to a candidate."""
    total = session.scalar(select(func.count()).select_from(Sighting).where(Sighting.source == source))
    hits = session.scalar(
        select(func.count()).select_from(Sighting).where(Sighting.source == source, Sighting.candidate_id.is_not(None))
    )
    return int(total or 0), int(hits or 0)


def touched_candidates(session: Session, *, sources: Sequence[str]) -> list[TouchedCandidate]:
    """Candidates with a sighting from any of ``sources``, by id, with the sources that saw each."""
    seen_by: dict[int, set[str]] = {}
    for chunk in _chunks(list(sources), _CHUNK):
        rows = session.execute(
            select(Sighting.candidate_id, Sighting.source).where(
                Sighting.source.in_(chunk), Sighting.candidate_id.is_not(None)
            )
        )
        for candidate_id, source in rows:
            if candidate_id is not None:
                seen_by.setdefault(int(candidate_id), set()).add(source)
    return [
        TouchedCandidate(summary, tuple(sorted(seen_by[summary.id])))
        for summary in candidate_summaries(session, candidate_ids=list(seen_by))
    ]


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
