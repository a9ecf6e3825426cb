"""Street metres to WGS-84 (through ``vision.geo``'s local frame), and GPX tracks: where a synthetic street lies on
the map."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from vision.geo.local import LocalFrame


@dataclass(frozen=True)
class StreetGeo:
    """Where street coordinates are on the map.

    Attributes:
        lat: Latitude of the street origin (``x = y = 0``), degrees.
        lon: Longitude of the street origin, degrees.
        bearing_deg: Compass direction of the street's ``+x`` axis, degrees clockwise from north.
    """

    lat: float
    lon: float
    bearing_deg: float

    @classmethod
    def sample(cls, rng: np.random.Generator) -> StreetGeo:
        """A street somewhere in an eastern Chinese city, in any direction."""
        return cls(float(rng.uniform(22.5, 40.0)), float(rng.uniform(110.0, 122.0)), float(rng.uniform(0, 360)))

    def to_latlon(self, x: float, y: float) -> tuple[float, float]:
        """``(lat, lon)`` of street point ``(x, y)`` (``+y`` is to the left of ``+x``)."""
        theta = math.radians(self.bearing_deg)
        east = x * math.sin(theta) - y * math.cos(theta)
        north = x * math.cos(theta) + y * math.sin(theta)
        return LocalFrame(self.lat, self.lon).to_geo(east, north)

    def heading(self, yaw_deg: float) -> float:
        """Compass heading of a street-frame yaw (degrees counter-clockwise from ``+x``)."""
        return (self.bearing_deg - yaw_deg) % 360.0


@dataclass(frozen=True)
class TrackPoint:
    """One GPS fix."""

    time: datetime
    lat: float
    lon: float
    elevation_m: float = 10.0


def write_gpx(path: Path, points: Sequence[TrackPoint], name: str) -> Path:
    """Write a GPX 1.1 track (times in UTC, ``Z``)."""
    rows = []
    for p in points:
        stamp = p.time.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        rows.append(
            f'      <trkpt lat="{p.lat:.7f}" lon="{p.lon:.7f}"><ele>{p.elevation_m:.1f}</ele>'
            f"<time>{stamp}</time></trkpt>"
        )
    text = "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<gpx version="1.1" creator="xiuhua synth" xmlns="http://www.topografix.com/GPX/1/1">',
            f"  <trk><name>{escape(name)}</name><trkseg>",
            *rows,
            "  </trkseg></trk>",
            "</gpx>",
            "",
        ]
    )
    path.write_text(text, encoding="utf-8")
    return path


def seconds_after(start: datetime, seconds: float) -> datetime:
    """``start`` plus ``seconds``."""
    return start + timedelta(seconds=seconds)
