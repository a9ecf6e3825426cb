"""De-duplication by location: the pure part (no database).

A located, accepted sighting attaches to the nearest candidate that matches it, and otherwise opens a new one.
A candidate matches when all of these hold:

- **What**: the same violation type and, with ``DedupSettings.match_class`` (the default), the same detector
  class: posters, window ads and signboards a few metres apart stay apart. A reviewer's relabelling counts: the
  candidate then matches sightings of its new class. Off, the violation type alone decides (the issue's wording).
- **Where**: within the radius of the violation type (:data:`DEFAULT_RADII_M`, 50 m for other types). Positions
  with a stated accuracy use it as it is; a sighting without one (external detections rarely say) may lie up to
  ``max_radius_m`` (50 m) away, since nothing about it is known to a few metres. ``accuracy_sigmas`` can widen
  the radius for poor positions to that many combined accuracies (off by default: see below).
- **When**, by the candidate's state:

  - *live* — open (waiting for review) or confirmed with its case open (not closed or void): any age. Reviewers
    see one item per violation however long it waits in the queue, and an open case collects every re-sighting.
    Attaching refines the position (weighted mean, weights ``1 / accuracy²``), widens the first/last seen,
    counts the sighting and keeps the best score.
  - *decided* — rejected, closed, or confirmed with its case closed or void: only within ``window`` (24 h) of its
    last_seen. It absorbs the sighting — counted on it, nothing else changes: not its status (it is not queued
    again), not its position, time span or score, so the window keeps running from the last sighting before the
    decision. A false detection just rejected, or a case just closed, does not come straight back from the next
    frames; after the window a new candidate opens, and reviewers see the place again.
  - merged candidates never (their sightings moved to the candidate they were merged into).

- **Not seen together**: a candidate already seen by the same source during the sighting's time span is another
  object in the same frames: two objects in one frame are two candidates, however close.

Why these radii. Chosen on synthetic patrol clips (three passes on different days, ground-truth boxes, seeds
7101-7103; found share / candidates per found violation) when every patrol position came from one frame:
advertising objects stand 3-4 m apart and were off by ~3 m, so 5 m (98.8 % / 1.01; 8 m: 90.6 %); goods outside
neighbouring shops 3-4 m apart, off by < 1 m, 8 m (91.5 % / 1.07; 12 m: 85 %); sheds 4 m apart, rooftop additions
off by 6-30 m, 15 m (flat from 5 to 20 m, worse from 25 m).

Re-measured with positions triangulated along the drive (synthetic dev streets 7401, 7402, 7411-7413, 440
violations; a sighting's error is to the true object its best box shows). Advertising sightings, ground-truth boxes:
83 % triangulated, off by 0.24 m median (p90 0.8 m), the rest placed from one frame, 2.8 m (p90 8.7 m); shipped
model: 78 %, 0.29 m (p90 1.6 m) and 2.5 m (p90 4.3 m). Street occupation, triangulated: 0.3 m (truth boxes) and 0.7 m
(model) median. The nearest advertising object of the same class is 2.9 m away (median), under 2.5 m for half of
them: the radius cannot tell those apart, being seen together does. Smaller advertising radii show at most four more
violations and open many more candidates (found_shown / candidates, `pipeline-eval patrol`, five streets): truth
boxes 5 m 393 / 427, 3.5 m 395 / 447, 2.5 m 395 / 463; model 292 / 414, 294 / 431, 296 / 464. The clips' GPS is
exact; with a constant GPS offset per drive (normal, 1.5 m per axis; three draws) the candidates per found violation
grow to 1.06 at 5 m, 1.15 at 3.5 m and 1.31 at 2.5 m. Street occupation at 5 m equals 8 m on truth boxes. So the
radii stay.

Widening by the stated accuracy does not help either. The patrol locator states ~5.3 m for a triangulated position
and ~6 m for a single frame (5 m of it the GPS accuracy assumed for a track without one), so one combined accuracy
(~7.5 m) already merges neighbours: ``accuracy_sigmas=1`` gives 390 / 414 on truth boxes and 291 / 386 with the
model, with found down from 387 to 367 (model); 2 gives 365 / 373 on truth boxes. Stating only the rays' miss
(>= 1 m) for a triangulated position, with 2.5 m and ``accuracy_sigmas=2``, gives 395 / 427 on truth boxes and 293 / 416
with the model, but 1.18 candidates per found violation under the GPS offsets above: the miss leaves out the GPS
error, the larger part between drives.

External detections (no accuracy, 10 m GPS noise per axis, objects >= 110 m apart) need ~40 m: same-object
detections lie up to ~3.5 x 10 m apart; with the 50 m reach for unknown accuracy, 1 000 objects x 50 detections
give 1 004 candidates (benchmarks/ingest.py).

The database side (:mod:`service.violations.queries`) finds the candidates inside a bounding box around the point
(indexed lat/lon columns) and, on PostgreSQL, serialises writers with one advisory lock per grid cell: every
candidate a recording touches lies in its box (a refined position lies between the old one and the new sighting),
so two recordings that could touch the same candidate both lock the cell it lies in.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import MappingProxyType

from service.geo import METRES_PER_DEGREE, distance_m
from service.violations.observation import Observation

DEFAULT_RADIUS_M = 50.0
# Radii of the product's violation types, metres: small objects close together (posters, window ads) need a
# small one; a stall or a pile moves a little between days; a shed or a rooftop addition is large.
DEFAULT_RADII_M: Mapping[str, float] = MappingProxyType(
    {"illegal_advertising": 5.0, "street_occupation": 8.0, "illegal_construction": 15.0}
)
DEFAULT_WINDOW = timedelta(hours=24)
# Accuracy assumed, for weighting positions, of an observation located without one (external detections rarely
# say), metres. How far such an observation reaches is DedupSettings.max_radius_m.
DEFAULT_ACCURACY_M = 10.0
# No position is trusted below this: keeps weights bounded, so an old candidate still follows new sightings.
MIN_ACCURACY_M = 1.0
# The bounding box is a little larger than the circle, so rounding never loses a candidate at the edge.
BOX_MARGIN = 1.01
# Side of the advisory-lock grid cells, degrees (about 1.1 km north-south).
LOCK_CELL_DEGREES = 0.01


@dataclass(frozen=True)
class DedupSettings:
    """Where and when a sighting attaches to a candidate (the rules are in the module's docstring).

    Attributes:
        radius_m: Radius in metres per violation type; types not listed use ``default_radius_m``. The default
            (:data:`DEFAULT_RADII_M`) replaces the whole mapping when given: list every type you care about.
        default_radius_m: Radius for the other types.
        window: How long after its last sighting a decided candidate (rejected, or its case ended) still
            absorbs sightings at its place. Open candidates and open cases take sightings at any age.
        match_class: Attach only to candidates of the sighting's detector class (besides its violation type);
            off: the violation type alone.
        max_radius_m: The reach of a sighting located without an accuracy, and the most that widening by
            accuracy can reach.
        accuracy_sigmas: Widen the radius to this many combined accuracies of the two positions
            (``sqrt(candidate² + sighting²)``) when that is larger; 0 keeps the radius.
    """

    radius_m: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_RADII_M))
    default_radius_m: float = DEFAULT_RADIUS_M
    window: timedelta = DEFAULT_WINDOW
    match_class: bool = True
    max_radius_m: float = DEFAULT_RADIUS_M
    accuracy_sigmas: float = 0.0

    def __post_init__(self) -> None:
        radii = {**self.radius_m, "default": self.default_radius_m, "max_radius_m": self.max_radius_m}
        for name, radius in radii.items():
            if not (isinstance(radius, int | float) and math.isfinite(radius) and radius > 0):
                raise ValueError(f"dedup radius for {name} must be a positive number of metres, got {radius!r}")
        if self.window < timedelta(0):
            raise ValueError(f"dedup window must not be negative, got {self.window}")
        if not (math.isfinite(self.accuracy_sigmas) and self.accuracy_sigmas >= 0):
            raise ValueError(f"dedup accuracy_sigmas must be a number >= 0, got {self.accuracy_sigmas!r}")

    def radius_for(self, violation_type: str) -> float:
        """The radius in metres for ``violation_type``, for positions with a stated accuracy."""
        return self.radius_m.get(violation_type, self.default_radius_m)

    def search_radius_m(self, violation_type: str, accuracy_m: float | None) -> float:
        """The farthest a sighting of ``violation_type`` located with ``accuracy_m`` can reach from a candidate.

        What the database search must cover, before any candidate's accuracy is known.
        """
        radius = self.radius_for(violation_type)
        if accuracy_m is None or self.accuracy_sigmas > 0:
            return max(radius, self.max_radius_m)
        return radius

    def reach_m(self, violation_type: str, candidate_accuracy_m: float | None, accuracy_m: float | None) -> float:
        """How far from a candidate (accuracy ``candidate_accuracy_m``) a sighting may lie and attach to it.

        The type's radius; ``max_radius_m`` for a sighting without an accuracy (there is nothing to gate by);
        widened to ``accuracy_sigmas`` combined accuracies, up to ``max_radius_m``, when the positions are poor.
        """
        radius = self.radius_for(violation_type)
        if accuracy_m is None:
            return max(radius, self.max_radius_m)
        if self.accuracy_sigmas <= 0:
            return radius
        held = DEFAULT_ACCURACY_M if candidate_accuracy_m is None else candidate_accuracy_m
        widened = min(self.accuracy_sigmas * math.hypot(held, accuracy_m), self.max_radius_m)
        return max(radius, widened)


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
        class_name: Its detector class (a reviewer's relabelling included).
        lat: Latitude of its refined position.
        lon: Longitude of its refined position.
        accuracy_m: Uncertainty of that position (``None``: not known).
        first_seen: When it was first seen.
        last_seen: When it was last seen.
        sightings_count: Sightings attached so far.
        score: Best score among them.
        status: ``open``, ``confirmed``, ``rejected`` or ``closed`` (merged candidates never come here).
        case_open: Whether it became a case that is neither closed nor void.
    """

    id: int
    violation_type: str
    class_name: str
    lat: float
    lon: float
    accuracy_m: float | None
    first_seen: datetime
    last_seen: datetime
    sightings_count: int
    score: float
    status: str
    case_open: bool

    @property
    def live(self) -> bool:
        """Waiting for review, or confirmed with its case still open: takes sightings at any age and follows them."""
        return self.status == "open" or (self.status == "confirmed" and self.case_open)

    def takes_at(self, observation: Observation, window: timedelta) -> bool:
        """Whether ``observation``'s time lets it attach: any time while live, else within ``window`` of its span."""
        if self.live:
            return True
        return observation.first_seen <= self.last_seen + window and observation.last_seen >= self.first_seen - window


def choose_candidate(
    candidates: Iterable[NearbyCandidate], observation: Observation, *, violation_type: str, settings: DedupSettings
) -> NearbyCandidate | None:
    """The nearest candidate ``observation`` may attach to, or ``None`` (ties: the oldest id).

    It may attach to a candidate of ``violation_type`` (and of its class, with ``settings.match_class``) that
    takes sightings at its time (:meth:`NearbyCandidate.takes_at`) and lies within reach
    (:meth:`DedupSettings.reach_m`).
    """
    location = observation.location
    assert location is not None, "only located sightings attach"
    best: tuple[float, int] | None = None
    chosen = None
    for candidate in candidates:
        if candidate.violation_type != violation_type:
            continue
        if settings.match_class and candidate.class_name != observation.class_name:
            continue
        if not candidate.takes_at(observation, settings.window):
            continue
        distance = distance_m(location.lat, location.lon, candidate.lat, candidate.lon)
        reach = settings.reach_m(violation_type, candidate.accuracy_m, location.accuracy_m)
        if distance <= reach and (best is None or (distance, candidate.id) < best):
            best, chosen = (distance, candidate.id), candidate
    return chosen


def observation_weight(accuracy_m: float | None) -> float:
    """Weight ``1 / accuracy²`` of a position, with the default and the floor applied."""
    accuracy = max(DEFAULT_ACCURACY_M if accuracy_m is None else accuracy_m, MIN_ACCURACY_M)
    return 1.0 / (accuracy * accuracy)


def attach(candidate: NearbyCandidate, observation: Observation) -> NearbyCandidate:
    """The candidate after one more sighting.

    A live candidate (:attr:`NearbyCandidate.live`) gets a refined position, a wider time span, one more
    sighting and the best score. A decided one only counts the sighting: it keeps its position, span, score and
    status, so its window keeps running from the last sighting before the decision.

    The position is the weighted mean of the candidate's and the sighting's (weights ``1 / accuracy²``). The
    candidate's accuracy stands for the weight of everything seen so far, so no extra column is needed; it is
    floored at :data:`MIN_ACCURACY_M` like every position, which lets a long-lived candidate still follow new
    sightings a little.
    """
    location = observation.location
    assert location is not None, "only located sightings attach"
    if not candidate.live:
        return replace(candidate, sightings_count=candidate.sightings_count + 1)
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
