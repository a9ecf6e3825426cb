"""Metres and degrees on the WGS-84 map at city scale, for the service's database lookups and rules.

Distances here are on the mean Earth sphere (haversine) and boxes and buffers use a local equirectangular projection
(longitude scaled by the cosine of the latitude): accurate to well under a metre over the metres to few kilometres
that zones, permits, references and candidates span. Where the ellipsoid matters (projecting detections onto the
ground), :mod:`vision.geo` does the work.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180.0  # of latitude, on that sphere


def distance_m(lat_a: float, lon_a: float, lat_b: float, lon_b: float) -> float:
    """Great-circle (haversine) distance in metres between two WGS-84 points."""
    phi_a, phi_b = math.radians(lat_a), math.radians(lat_b)
    half_dphi = (phi_b - phi_a) / 2.0
    half_dlambda = math.radians(lon_b - lon_a) / 2.0
    h = math.sin(half_dphi) ** 2 + math.cos(phi_a) * math.cos(phi_b) * math.sin(half_dlambda) ** 2
    return 2.0 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def heading_difference_deg(a: float, b: float) -> float:
    """The smaller angle between two compass headings, in ``[0, 180]`` (350° and 10° are 20° apart)."""
    difference = abs(a - b) % 360.0
    return min(difference, 360.0 - difference)


def degree_box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """The ``(min_lon, min_lat, max_lon, max_lat)`` box (shapely's bounds order) within ``radius_m`` of a point.

    A prefilter for an index lookup, not an exact test (the antimeridian is not handled: city scale).
    """
    dlat = radius_m / METRES_PER_DEGREE
    dlon = radius_m / (METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 1e-6))
    return (lon - dlon, lat - dlat, lon + dlon, lat + dlat)


def buffer_m(geometry: BaseGeometry, metres: float) -> BaseGeometry:
    """Grow a lon/lat geometry by ``metres`` on the ground (e.g. "within 50 m of the school").

    Args:
        geometry: A geometry in longitude/latitude degrees.
        metres: How far to grow it; 0 returns it unchanged.

    Returns:
        The grown geometry, in longitude/latitude degrees.
    """
    if metres == 0:
        return geometry
    centre = geometry.centroid
    lon0, lat0 = centre.x, centre.y
    x_scale = METRES_PER_DEGREE * math.cos(math.radians(lat0))

    def to_metres(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.column_stack(((coords[:, 0] - lon0) * x_scale, (coords[:, 1] - lat0) * METRES_PER_DEGREE))

    def to_degrees(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.column_stack((coords[:, 0] / x_scale + lon0, coords[:, 1] / METRES_PER_DEGREE + lat0))

    grown = shapely.transform(geometry, to_metres).buffer(metres, quad_segs=16)
    return shapely.transform(grown, to_degrees)
