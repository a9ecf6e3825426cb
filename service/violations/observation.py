"""What the service judges and records: one object seen by one source, from our own tracker or another system."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from vision.frame import GeoPoint

CAMERA_KINDS = ("fixed", "ptz", "patrol")


@dataclass(frozen=True)
class Observation:
    """A sighting in service terms: absolute times, a camera, a place on the map.

    Attributes:
        source: The file, stream or external system it came from.
        track_key: Unique within ``source``: our tracker's id, or the external system's track id / line number.
        class_name: Detector class in the product's vocabulary (``vendor_stall`` …).
        first_seen: When it was first seen (timezone-aware).
        last_seen: When it was last seen (timezone-aware).
        frames_seen: How many frames it was detected in (1 for a single external detection).
        score: Confidence aggregated over the frames, ``[0, 1]``.
        location: Where the object is, with its uncertainty; ``None`` if it could not be located.
        camera_key: The department's camera name, when known.
        camera_kind: ``fixed``, ``ptz`` or ``patrol``; ``None`` for external detections of unknown origin.
        box: The box in the best frame, ``x1, y1, x2, y2`` pixels, when there is one.
        frames_tracked: How many frames of its source were tracked from its first to its last (the frames it could
            have been detected in, `vision.sighting.Sighting.frames_tracked`); ``None`` when not known.
    """

    source: str
    track_key: str
    class_name: str
    first_seen: datetime
    last_seen: datetime
    frames_seen: int
    score: float
    location: GeoPoint | None
    camera_key: str | None = None
    camera_kind: str | None = None
    box: tuple[float, float, float, float] | None = None
    frames_tracked: int | None = None

    def __post_init__(self) -> None:
        for name in ("first_seen", "last_seen"):
            if getattr(self, name).tzinfo is None:
                raise ValueError(f"observation {self.source}#{self.track_key}: {name} must be timezone-aware")
        if self.last_seen < self.first_seen:
            raise ValueError(f"observation {self.source}#{self.track_key}: last_seen is before first_seen")
        if self.camera_kind is not None and self.camera_kind not in CAMERA_KINDS:
            raise ValueError(f"observation {self.source}#{self.track_key}: camera_kind {self.camera_kind!r} unknown")

    @property
    def dwell_seconds(self) -> float:
        """Seconds between the first and the last time it was seen."""
        return (self.last_seen - self.first_seen).total_seconds()
