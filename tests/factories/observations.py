"""Observations and verdicts for violations tests: places given in metres from an origin, times in minutes."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from service.geo import METRES_PER_DEGREE
from service.violations.observation import Observation
from service.violations.verdicts import ClassVerdict
from vision.frame import GeoPoint

ORIGIN = (30.2741, 120.1551)
T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
CLASS_OF_TYPE = {
    "street_occupation": ("vendor_stall", "0501"),
    "illegal_advertising": ("banner", "0202"),
    "illegal_construction": ("shed", "0101"),
}


def place(north_m: float = 0.0, east_m: float = 0.0) -> tuple[float, float]:
    """Latitude and longitude ``north_m`` / ``east_m`` metres from :data:`ORIGIN`."""
    lat = ORIGIN[0] + north_m / METRES_PER_DEGREE
    return lat, ORIGIN[1] + east_m / (METRES_PER_DEGREE * math.cos(math.radians(lat)))


def make_observation(
    key: str,
    *,
    north_m: float = 0.0,
    east_m: float = 0.0,
    minutes: float = 0.0,
    duration_minutes: float = 0.0,
    source: str = "patrol-1",
    violation_type: str = "street_occupation",
    score: float = 0.6,
    accuracy_m: float | None = None,
    located: bool = True,
    class_name: str | None = None,
) -> Observation:
    """An observation of ``class_name`` (default: the class of ``violation_type``), seen ``minutes`` after :data:`T0`.

    Without ``accuracy_m`` the position has no stated accuracy (like an external detection's).
    """
    first = T0 + timedelta(minutes=minutes)
    lat, lon = place(north_m, east_m)
    return Observation(
        source=source,
        track_key=key,
        class_name=class_name or CLASS_OF_TYPE[violation_type][0],
        first_seen=first,
        last_seen=first + timedelta(minutes=duration_minutes),
        frames_seen=3,
        score=score,
        location=GeoPoint(lat, lon, accuracy_m) if located else None,
        box=(10.0, 20.0, 110.0, 220.0),
    )


def accept(violation_type: str = "street_occupation") -> ClassVerdict:
    """An accepting verdict for ``violation_type``."""
    return ClassVerdict(True, None, violation_type, CLASS_OF_TYPE[violation_type][1])


def reject(reason: str = "inside a permitted night market") -> ClassVerdict:
    """A dropping verdict."""
    return ClassVerdict(False, reason, None, None)
