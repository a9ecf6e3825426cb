"""Metres on the ground around a point: WGS-84 latitude/longitude to local east/north metres and back.

The projection is a local equirectangular one (a tangent plane at the origin) using the WGS-84 ellipsoid's
meridian and prime-vertical radii at the origin's latitude. At city scale it is good to centimetres: over 10 km
from the origin the error stays below about 1 m (it grows with the square of the distance), which is far below
GPS noise. It is not meant for distances of hundreds of kilometres or for the poles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from vision.frame import GeoPoint

Array = npt.NDArray[np.float64]

WGS84_A = 6_378_137.0  # semi-major axis, metres
WGS84_F = 1 / 298.257_223_563  # flattening
_E2 = WGS84_F * (2 - WGS84_F)  # first eccentricity squared


def _radii(lat_deg: float) -> tuple[float, float]:
    """Metres per radian of latitude (meridian) and of longitude (parallel) at ``lat_deg``."""
    sin_lat = math.sin(math.radians(lat_deg))
    w = math.sqrt(1.0 - _E2 * sin_lat * sin_lat)
    meridian = WGS84_A * (1.0 - _E2) / w**3
    parallel = WGS84_A / w * math.cos(math.radians(lat_deg))
    return meridian, parallel


def _wrap_lon(degrees: Array) -> Array:
    """Longitudes (or differences) folded into ``[-180, 180)``, across the antimeridian."""
    return (degrees + 180.0) % 360.0 - 180.0


@dataclass(frozen=True)
class LocalFrame:
    """East/north metres around an origin.

    Attributes:
        lat: Latitude of the origin, degrees.
        lon: Longitude of the origin, degrees.
    """

    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lat) and math.isfinite(self.lon)):
            raise ValueError(f"local frame origin must be finite, got ({self.lat}, {self.lon})")
        if not -89.0 <= self.lat <= 89.0:
            raise ValueError(f"local frame origin latitude {self.lat} is outside [-89, 89]")
        if not -180.0 <= self.lon <= 180.0:
            raise ValueError(f"local frame origin longitude {self.lon} is outside [-180, 180]")

    @classmethod
    def at(cls, point: GeoPoint) -> LocalFrame:
        """The frame centred on ``point``."""
        return cls(point.lat, point.lon)

    def to_local(self, lat: float, lon: float) -> tuple[float, float]:
        """``(east, north)`` metres of a WGS-84 position."""
        east, north = self.to_local_array(np.array([[lat, lon]]))[0]
        return float(east), float(north)

    def to_geo(self, east: float, north: float) -> tuple[float, float]:
        """``(lat, lon)`` degrees of a point ``east``/``north`` metres from the origin."""
        lat, lon = self.to_geo_array(np.array([[east, north]]))[0]
        return float(lat), float(lon)

    def to_local_array(self, latlon: Array) -> Array:
        """``(N, 2)`` ``(lat, lon)`` degrees to ``(N, 2)`` ``(east, north)`` metres."""
        points = np.asarray(latlon, np.float64).reshape(-1, 2)
        meridian, parallel = _radii(self.lat)
        east = np.radians(_wrap_lon(points[:, 1] - self.lon)) * parallel
        north = np.radians(points[:, 0] - self.lat) * meridian
        return np.stack([east, north], axis=1)

    def to_geo_array(self, east_north: Array) -> Array:
        """``(N, 2)`` ``(east, north)`` metres to ``(N, 2)`` ``(lat, lon)`` degrees."""
        points = np.asarray(east_north, np.float64).reshape(-1, 2)
        meridian, parallel = _radii(self.lat)
        lat = self.lat + np.degrees(points[:, 1] / meridian)
        lon = _wrap_lon(self.lon + np.degrees(points[:, 0] / parallel))
        return np.stack([lat, lon], axis=1)


def _delta(a: GeoPoint, b: GeoPoint) -> tuple[float, float]:
    """``(east, north)`` metres from ``a`` to ``b`` in a frame at their mid-latitude."""
    frame = LocalFrame((a.lat + b.lat) / 2.0, a.lon)
    east_a, north_a = frame.to_local(a.lat, a.lon)
    east_b, north_b = frame.to_local(b.lat, b.lon)
    return east_b - east_a, north_b - north_a


def distance_m(a: GeoPoint, b: GeoPoint) -> float:
    """Ground distance between two points in metres (local projection at their mid-latitude; city scale)."""
    return math.hypot(*_delta(a, b))


def bearing_deg(a: GeoPoint, b: GeoPoint) -> float:
    """Compass bearing from ``a`` to ``b``: degrees clockwise from north in ``[0, 360)``; 0 for the same point."""
    east, north = _delta(a, b)
    return math.degrees(math.atan2(east, north)) % 360.0


def offset(point: GeoPoint, bearing: float, distance: float) -> GeoPoint:
    """The point ``distance`` metres from ``point`` along compass ``bearing`` (degrees clockwise from north).

    The result keeps ``point``'s accuracy and heading.
    """
    theta = math.radians(bearing)
    lat, lon = LocalFrame.at(point).to_geo(distance * math.sin(theta), distance * math.cos(theta))
    return GeoPoint(lat, lon, point.accuracy_m, point.heading_deg)
