"""De-duplication by location: the pure part (no database).

A new sighting attaches to an existing candidate of the same violation type when it lies within ``R`` metres of it
(per violation type, default 50 m) and within the time window (default 24 h from the candidate's span, or without
limit while the candidate's case is open). Otherwise it opens a new candidate. Attaching refines the candidate's
position with a weighted mean (weights ``1 / accuracy²``).

The database side (:mod:`service.violations.queries`) finds the candidates inside a bounding box around the point
(indexed lat/lon columns) and, on PostgreSQL, serialises writers with one advisory lock per grid cell: every
candidate a recording touches lies in its box (a refined position lies between the old one and the new sighting),
so two recordings that could touch the same candidate both lock the cell it lies in.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from service.violations.observation import Observation

# Metres per degree of latitude on the mean Earth sphere (radius 6 371 008.8 m).
METRES_PER_DEGREE = math.pi / 180.0 * 6_371_008.8
DEFAULT_RADIUS_M = 50.0
DEFAULT_WINDOW = timedelta(hours=24)
# Accuracy assumed for an observation located without one (external detections rarely say), metres.
DEFAULT_ACCURACY_M = 10.0
# No position is trusted below this: keeps weights bounded, so an old candidate still follows new sightings.
MIN_ACCURACY_M = 1.0
# The bounding box is a little larger than the circle, so rounding never loses a candidate at the edge.
BOX_MARGIN = 1.01
# Side of the advisory-lock grid cells, degrees (about 1.1 km north-south).
LOCK_CELL_DEGREES = 0.01


@dataclass(frozen=True)
class DedupSettings:
    """How close in space and time a sighting must be to attach to a candidate.

    Attributes:
        radius_m: Radius in metres per violation type; types not listed use ``default_radius_m``.
        default_radius_m: Radius for the other types.
        window: Largest gap between the sighting and the candidate's first/last seen; a candidate whose case is
            still open (not closed or void) attaches at any time.
    """

    radius_m: Mapping[str, float] = field(default_factory=dict)
    default_radius_m: float = DEFAULT_RADIUS_M
    window: timedelta = DEFAULT_WINDOW

    def __post_init__(self) -> None:
        for name, radius in {**self.radius_m, "default": self.default_radius_m}.items():
            if not (math.isfinite(radius) and radius > 0):
                raise ValueError(f"dedup radius for {name} must be a positive number of metres, got {radius!r}")
        if self.window < timedelta(0):
            raise ValueError(f"dedup window must not be negative, got {self.window}")

    def radius_for(self, violation_type: str) -> float:
        """The radius in metres for ``violation_type``."""
        return self.radius_m.get(violation_type, self.default_radius_m)


@dataclass(frozen=True)
class SearchBox:
    """A latitude/longitude box around a point that contains the circle of ``radius_m`` around it."""

    south: float
    north: float
    west: float
    east: float
    radius_m: float

    @classmethod
    def around(cls, lat: float, lon: float, radius_m: float) -> SearchBox:
        """The box around ``(lat, lon)`` that holds every point within ``radius_m`` (no wrap at ±180°)."""
        half_lat = radius_m * BOX_MARGIN / METRES_PER_DEGREE
        # Near the poles a degree of longitude shrinks to nothing: widen to the whole circle of latitude there.
        cos_lat = math.cos(math.radians(min(abs(lat) + half_lat, 90.0)))
        half_lon = 180.0 if cos_lat < 1e-6 else min(radius_m * BOX_MARGIN / (METRES_PER_DEGREE * cos_lat), 180.0)
        return cls(lat - half_lat, lat + half_lat, lon - half_lon, lon + half_lon, radius_m)

    def lock_keys(self, violation_type: str) -> set[int]:
        """Advisory-lock keys of the grid cells (of ``violation_type``) this box overlaps.

        The grid is fixed (:data:`LOCK_CELL_DEGREES`), so every writer names a place's cell alike, and coarse,
        so a batch spread over a city holds a few hundred locks at most. Two recordings whose boxes could both
        reach one candidate share that candidate's cell, whatever the cell size.
        """
        rows = range(math.floor(self.south / LOCK_CELL_DEGREES), math.floor(self.north / LOCK_CELL_DEGREES) + 1)
        columns = range(math.floor(self.west / LOCK_CELL_DEGREES), math.floor(self.east / LOCK_CELL_DEGREES) + 1)
        return {lock_key(f"cell:{violation_type}:{row}:{column}") for row in rows for column in columns}


def lock_key(name: str) -> int:
    """A signed 64-bit advisory-lock key for ``name`` (PostgreSQL's ``pg_advisory_xact_lock(bigint)``)."""
    digest = hashlib.blake2b(f"xiuhua-dedup:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@dataclass(frozen=True)
class Span:
    """When one source saw a candidate (a sighting's first and last time)."""

    source: str
    first_seen: datetime
    last_seen: datetime

    def overlaps(self, observation: Observation) -> bool:
        """Whether ``observation`` comes from the same source and was seen during this span."""
        return (
            self.source == observation.source
            and self.first_seen <= observation.last_seen
            and self.last_seen >= observation.first_seen
        )


@dataclass(frozen=True)
class NearbyCandidate:
    """A candidate near a sighting, as a recording sees it (and changes it, by :func:`attach`).

    Attributes:
        id: Candidate id (negative for one opened by the batch and not yet written).
        violation_type: Its violation type.
        lat: Latitude of its refined position.
        lon: Longitude of its refined position.
        accuracy_m: Uncertainty of that position (``None``: not known).
        first_seen: When it was first seen.
        last_seen: When it was last seen.
        sightings_count: Sightings attached so far.
        score: Best score among them.
        case_open: Whether it became a case that is neither closed nor void.
    """

    id: int
    violation_type: str
    lat: float
    lon: float
    accuracy_m: float | None
    first_seen: datetime
    last_seen: datetime
    sightings_count: int
    score: float
    case_open: bool


def metres_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Ground distance in metres (equirectangular: exact enough below a few kilometres)."""
    mean_lat = math.radians((lat1 + lat2) / 2.0)
    north = (lat2 - lat1) * METRES_PER_DEGREE
    east = (lon2 - lon1) * METRES_PER_DEGREE * math.cos(mean_lat)
    return math.hypot(north, east)


def choose_candidate(
    candidates: list[NearbyCandidate],
    *,
    lat: float,
    lon: float,
    first_seen: datetime,
    last_seen: datetime,
    radius_m: float,
    window: timedelta,
) -> NearbyCandidate | None:
    """The nearest candidate within ``radius_m`` and the time window, or ``None`` (ties: the oldest id)."""
    best: tuple[float, int] | None = None
    chosen = None
    for candidate in candidates:
        in_time = candidate.case_open or (
            first_seen <= candidate.last_seen + window and last_seen >= candidate.first_seen - window
        )
        distance = metres_between(lat, lon, candidate.lat, candidate.lon)
        if in_time and distance <= radius_m and (best is None or (distance, candidate.id) < best):
            best, chosen = (distance, candidate.id), candidate
    return chosen


def observation_weight(accuracy_m: float | None) -> float:
    """Weight ``1 / accuracy²`` of a position, with the default and the floor applied."""
    accuracy = max(DEFAULT_ACCURACY_M if accuracy_m is None else accuracy_m, MIN_ACCURACY_M)
    return 1.0 / (accuracy * accuracy)


def attach(candidate: NearbyCandidate, observation: Observation) -> NearbyCandidate:
    """The candidate after one more sighting: refined position, wider time span, one more sighting, best score.

    The position is the weighted mean of the candidate's and the sighting's (weights ``1 / accuracy²``). The
    candidate's accuracy stands for the weight of everything seen so far, so no extra column is needed; it is
    floored at :data:`MIN_ACCURACY_M` like every position, which lets a long-lived candidate still follow new
    sightings a little.
    """
    location = observation.location
    assert location is not None, "only located sightings attach"
    held = observation_weight(candidate.accuracy_m)
    added = observation_weight(location.accuracy_m)
    total = held + added
    return replace(
        candidate,
        lat=(candidate.lat * held + location.lat * added) / total,
        lon=(candidate.lon * held + location.lon * added) / total,
        accuracy_m=max(1.0 / math.sqrt(total), MIN_ACCURACY_M),
        first_seen=min(candidate.first_seen, observation.first_seen),
        last_seen=max(candidate.last_seen, observation.last_seen),
        sightings_count=candidate.sightings_count + 1,
        score=max(candidate.score, observation.score),
    )


def first_accuracy(accuracy_m: float | None) -> float:
    """The accuracy a new candidate starts with: the sighting's, or the default when it has none."""
    return max(DEFAULT_ACCURACY_M if accuracy_m is None else accuracy_m, MIN_ACCURACY_M)
