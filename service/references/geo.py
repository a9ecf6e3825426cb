"""Metres and degrees between camera positions: enough geometry to find the reference of a patrol position."""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180.0


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
    """``(min_lat, max_lat, min_lon, max_lon)`` holding every point within ``radius_m`` of a point.

    A prefilter for an index lookup, not an exact test (the antimeridian is not handled: city scale).
    """
    dlat = radius_m / METRES_PER_DEGREE
    dlon = radius_m / (METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 1e-6))
    return (lat - dlat, lat + dlat, lon - dlon, lon + dlon)
