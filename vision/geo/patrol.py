"""Patrol video: where a boxed object is, from the vehicle's GPS position and heading and a flat-ground camera model.

The camera is a pinhole at ``height_m`` above flat ground, turned ``yaw_deg`` clockwise from the vehicle's heading
and tilted ``pitch_deg`` above the horizon, with no roll. The ray through the bottom-centre of a box (where the
object meets the ground) gives the compass bearing of the object; where that ray meets the ground gives its range.
Objects whose bottom edge is at or above the horizon (signs on walls, banners) do not meet the ground; neither do
they stand beyond the buildings: the range is capped where the ray meets the building line ``roadside_m`` to the
side the camera looks at, and at ``max_range_m``. That guess is the largest error: a street's building line is
anywhere from about 5 to 15 m from a car in the right lane. An object seen from several places along the drive is
placed by triangulation instead (``PatrolLocator.triangulate``): where the rays through its boxes cross; no
building line, no flat ground.

The defaults are the middle of the synthetic patrol rig (``xiuhua synth patrol``: height 1.6–2.5 m, pitch 0–8° up,
horizontal FOV 60–90°, turned 25–70° to the kerb side, 4.5–12 m from the building line); a real vehicle's mount
should be measured and given, and ``PatrolSettings.from_camera_metadata`` reads a synthetic pass's ``camera`` block.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from vision.frame import GeoPoint
from vision.geo.local import Array, LocalFrame, offset

_MIN_SIN = 1e-3


@dataclass(frozen=True)
class PatrolSettings:
    """A vehicle camera's mount and the uncertainties of the flat-ground model.

    Attributes:
        height_m: Camera height above the road.
        pitch_deg: Tilt above the horizon (negative looks down).
        hfov_deg: Horizontal field of view (square pixels, principal point at the image centre).
        yaw_deg: Direction the camera looks, clockwise from the vehicle's heading (90 looks right).
        roadside_m: Sideways distance from the camera to the building line on the side it looks at; objects are
            taken to stand no further out. None: no such cap (open ground).
        max_range_m: Objects are placed no further than this from the vehicle.
        pitch_sigma_deg: One-sigma error of the pitch (mount, braking, road slope): the main range error.
        yaw_sigma_deg: One-sigma error of the yaw and the GPS heading together.
        pixel_sigma_px: One-sigma error of the box's bottom-centre.
        gps_accuracy_m: The vehicle's accuracy when its GeoPoint has none.
        min_views: `PatrolLocator.triangulate` needs at least this many boxes of the object, seen from where the
            vehicle was at each.
        min_spread_deg: The bearings of those boxes must spread over at least this many degrees for triangulation
            (rays that nearly agree cross anywhere along their length).
        edge_px: A box within this many pixels of the image's left or right edge is cut off: its ends are not the
            object's, so triangulation leaves it out.
        max_miss_m: Triangulation fails when the rays pass further than this from their crossing (RMS): the object
            moved, or the track jumped between objects.
    """

    height_m: float = 2.05
    pitch_deg: float = 4.0
    hfov_deg: float = 75.0
    yaw_deg: float = 47.5
    roadside_m: float | None = 8.0
    max_range_m: float = 30.0
    pitch_sigma_deg: float = 2.5
    yaw_sigma_deg: float = 3.0
    pixel_sigma_px: float = 2.0
    gps_accuracy_m: float = 5.0
    min_views: int = 3
    min_spread_deg: float = 5.0
    edge_px: float = 2.0
    max_miss_m: float = 1.0

    def __post_init__(self) -> None:
        if not self.height_m > 0:
            raise ValueError(f"height_m must be positive, got {self.height_m}")
        if not 0 < self.hfov_deg < 180:
            raise ValueError(f"hfov_deg must be in (0, 180), got {self.hfov_deg}")
        if not -90 < self.pitch_deg < 90:
            raise ValueError(f"pitch_deg must be in (-90, 90), got {self.pitch_deg}")
        if not self.max_range_m > 0 or (self.roadside_m is not None and not self.roadside_m > 0):
            raise ValueError("max_range_m and roadside_m must be positive")
        if self.min_views < 2 or not self.min_spread_deg > 0 or not self.max_miss_m > 0:
            raise ValueError("min_views must be at least 2, min_spread_deg and max_miss_m positive")

    @classmethod
    def from_camera_metadata(cls, camera: Mapping[str, Any], **overrides: Any) -> PatrolSettings:
        """Settings from a synthetic patrol pass's ``camera`` block (``truth.json`` → ``passes[k]["camera"]``).

        That block gives ``height_m``, ``hfov_deg`` and ``yaw_deg`` counter-clockwise from the street's direction
        (the vehicle's heading; negative looks right); an optional ``pitch_deg`` (degrees above the horizon) is
        used when present, the default otherwise. ``overrides`` replace any field afterwards.

        Raises:
            ValueError: A required key is missing or not a number.
        """
        values: dict[str, Any] = {}
        try:
            values["height_m"] = float(camera["height_m"])
            values["hfov_deg"] = float(camera["hfov_deg"])
            values["yaw_deg"] = -float(camera["yaw_deg"])  # counter-clockwise from the street → clockwise
            if camera.get("pitch_deg") is not None:
                values["pitch_deg"] = float(camera["pitch_deg"])
        except KeyError as error:
            raise ValueError(f"camera metadata lacks {error.args[0]!r}") from None
        except (TypeError, ValueError) as error:
            raise ValueError(f"camera metadata has a non-number: {error}") from None
        return replace(cls(**values), **overrides)


@dataclass(frozen=True)
class Sightline:
    """Where the ray through one pixel goes, relative to the vehicle.

    Attributes:
        bearing_deg: Direction of the ray on the ground, clockwise from the vehicle's heading.
        range_m: Horizontal distance from the camera to the object.
        range_sigma_m: One-sigma error of ``range_m``.
        on_ground: Whether the range came from the ray meeting the ground (False: a cap decided it).
    """

    bearing_deg: float
    range_m: float
    range_sigma_m: float
    on_ground: bool


@dataclass(frozen=True)
class PatrolView:
    """One look at an object from the moving vehicle.

    Attributes:
        vehicle: The camera's position with the vehicle's ``heading_deg`` at that moment (``GpsTrack.at``).
        box: The object's box ``(x1, y1, x2, y2)`` in that frame's pixels.
    """

    vehicle: GeoPoint
    box: Sequence[float] | Array


class PatrolLocator:
    """Places boxed objects of a patrol video on the map from the vehicle's position and heading."""

    def __init__(self, settings: PatrolSettings | None = None) -> None:
        self.settings = settings or PatrolSettings()

    def sightline(self, x: float, y: float, image_size: tuple[int, int]) -> Sightline:
        """The ray through pixel ``(x, y)`` of an image ``(width, height)``, on flat ground."""
        s = self.settings
        width, height = image_size
        if width <= 0 or height <= 0:
            raise ValueError(f"image_size must be a positive (width, height), got {image_size}")
        focal = self._focal(width)
        across, down = (x - width / 2.0) / focal, (y - height / 2.0) / focal
        pitch = math.radians(s.pitch_deg)
        forward = math.cos(pitch) + down * math.sin(pitch)  # camera ray in (forward, right, up), unnormalised
        up = math.sin(pitch) - down * math.cos(pitch)
        horizontal = math.hypot(forward, across)
        bearing = s.yaw_deg + math.degrees(math.atan2(across, forward))
        cap, cap_sigma = self._cap(bearing)
        if up < 0:
            depression = math.atan2(-up, horizontal)  # angle below the horizon
            ground = s.height_m / math.tan(depression)
            if ground <= cap:
                angle_sigma = math.hypot(math.radians(s.pitch_sigma_deg), s.pixel_sigma_px / focal)
                sigma = s.height_m / math.sin(depression) ** 2 * angle_sigma
                return Sightline(bearing, ground, min(sigma, cap), True)
        return Sightline(bearing, cap, cap_sigma, False)

    def _focal(self, width: int) -> float:
        """Focal length in pixels of an image ``width`` pixels wide."""
        return width / 2.0 / math.tan(math.radians(self.settings.hfov_deg) / 2.0)

    def _cap(self, bearing: float) -> tuple[float, float]:
        """The furthest an object along ``bearing`` is taken to be, and the error of putting it there."""
        s = self.settings
        cap = s.max_range_m
        if s.roadside_m is not None:
            toward = abs(math.sin(math.radians(bearing)))
            if toward > _MIN_SIN and math.sin(math.radians(bearing)) * math.sin(math.radians(s.yaw_deg)) >= 0:
                cap = min(cap, s.roadside_m / toward)
        return cap, cap / 3.0

    def locate(self, vehicle: GeoPoint, box: Sequence[float] | Array, image_size: tuple[int, int]) -> GeoPoint:
        """Where the object in ``box`` ``(x1, y1, x2, y2)`` stands, seen from ``vehicle``.

        Args:
            vehicle: The camera's position, with the vehicle's ``heading_deg`` (from ``GpsTrack.at``).
            box: The object's box in pixels.
            image_size: ``(width, height)`` of the frame the box is in.

        Returns:
            The object's position; ``accuracy_m`` combines the vehicle's GPS accuracy, the range error and the
            sideways error of the bearing. Without a heading the vehicle's own position is returned, with the
            accuracy widened by ``max_range_m`` (which side the object is on is unknown).
        """
        s = self.settings
        gps = vehicle.accuracy_m if vehicle.accuracy_m is not None else s.gps_accuracy_m
        if vehicle.heading_deg is None:
            return GeoPoint(vehicle.lat, vehicle.lon, accuracy_m=math.hypot(gps, s.max_range_m))
        x1, _, x2, y2 = (float(v) for v in np.asarray(box, np.float64).reshape(4))
        line = self.sightline((x1 + x2) / 2.0, y2, image_size)
        sideways = line.range_m * math.radians(s.yaw_sigma_deg)
        accuracy = math.sqrt(gps**2 + line.range_sigma_m**2 + sideways**2)
        placed = offset(vehicle, vehicle.heading_deg + line.bearing_deg, line.range_m)
        return GeoPoint(placed.lat, placed.lon, accuracy_m=accuracy)

    def triangulate(self, views: Sequence[PatrolView], image_size: tuple[int, int]) -> GeoPoint | None:
        """Where a still object seen from several places along the drive stands: where the rays through its boxes
        cross (least squares), with neither the flat-ground model's range nor the building line.

        A sign on a facade does not meet the ground; from one frame its range is a guess (``roadside_m``), from
        several it follows from how its bearing turns as the vehicle passes. Rays leave the vehicle's position along
        the compass bearings of the box's bottom-left and bottom-right corners: the object's two ends, which stay the
        same points of it from every side (a box's centre does not: a sign seen at a slant has its near half wider);
        the object is midway between the two crossings. Rays are weighted by the inverse square of their range (an
        angle error moves a far ray further). Boxes cut by the image's left or right edge are left out.

        Args:
            views: The object's boxes with the vehicle's position and heading at each.
            image_size: ``(width, height)`` of the frames.

        Returns:
            The position, with ``accuracy_m`` from the vehicles' GPS accuracy, the sideways error of a common yaw or
            heading error, the pixel error through the rays' geometry and the rays' miss; None when fewer than
            ``min_views`` boxes are usable, their bearings spread less than ``min_spread_deg``, a crossing is behind
            a view or beyond ``max_range_m``, or the rays miss it by more than ``max_miss_m`` (RMS).
        """
        s = self.settings
        width = image_size[0]
        vehicles: list[GeoPoint] = []
        bearings: list[tuple[float, float]] = []
        for view in views:
            x1, _, x2, y2 = (float(v) for v in np.asarray(view.box, np.float64).reshape(4))
            heading = view.vehicle.heading_deg
            if heading is None or x1 < s.edge_px or x2 > width - s.edge_px:
                continue
            vehicles.append(view.vehicle)
            left, right = (self.sightline(x, y2, image_size).bearing_deg for x in (x1, x2))
            bearings.append((heading + left, heading + right))
        if len(vehicles) < s.min_views:
            return None
        frame = LocalFrame.at(vehicles[0])
        origins = frame.to_local_array(np.array([[vehicle.lat, vehicle.lon] for vehicle in vehicles]))
        left_fix, right_fix = (self._crossing(origins, np.radians(side)) for side in np.array(bearings).T)
        if left_fix is None or right_fix is None:
            return None
        (left_end, directions, ranges, left_miss), (right_end, _, _, right_miss) = left_fix, right_fix
        point = (left_end + right_end) / 2.0
        miss = max(left_miss, right_miss)
        pixel_angle = s.pixel_sigma_px / self._focal(width)
        information = _normal_matrix(directions, 1.0 / (np.maximum(ranges, 1.0) * pixel_angle) ** 2)
        pixel_var = float(np.trace(np.linalg.inv(information)))
        gps = float(np.mean([v.accuracy_m if v.accuracy_m is not None else s.gps_accuracy_m for v in vehicles]))
        sideways = float(ranges.mean()) * math.radians(s.yaw_sigma_deg)
        lat, lon = frame.to_geo(float(point[0]), float(point[1]))
        return GeoPoint(lat, lon, accuracy_m=math.sqrt(gps**2 + sideways**2 + pixel_var + miss**2))

    def _crossing(self, origins: Array, azimuths: Array) -> tuple[Array, Array, Array, float] | None:
        """Where rays from ``origins`` (east/north metres) along ``azimuths`` (radians from north) cross.

        Returns:
            ``(point, directions, ranges, miss)``: the point, the rays' unit directions, the point's range along
            each ray and the rays' RMS distance from it; None when the rays do not fix a point (see `triangulate`).
        """
        s = self.settings
        directions = np.stack([np.sin(azimuths), np.cos(azimuths)], axis=1)  # east, north
        middle = math.atan2(*directions.sum(axis=0))
        turned = (azimuths - middle + math.pi) % (2 * math.pi) - math.pi
        if math.degrees(float(turned.max() - turned.min())) < s.min_spread_deg:
            return None
        point = _nearest_point(origins, directions, np.ones(len(origins)))
        ranges = np.einsum("kj,kj->k", point - origins, directions)
        if ranges.min() <= 0:
            return None
        point = _nearest_point(origins, directions, 1.0 / np.maximum(ranges, 1.0) ** 2)
        ranges = np.einsum("kj,kj->k", point - origins, directions)
        if ranges.min() <= 0 or ranges.min() > s.max_range_m:
            return None
        miss = float(np.sqrt(np.mean(np.sum((point - origins - ranges[:, None] * directions) ** 2, axis=1))))
        return (point, directions, ranges, miss) if miss <= s.max_miss_m else None


def _across(directions: Array) -> Array:
    """``I - d_k d_k^T`` per ray: projects a vector onto what lies across ray ``k`` (its distance from the ray)."""
    return np.eye(2)[None, :, :] - directions[:, :, None] * directions[:, None, :]


def _normal_matrix(directions: Array, weights: Array) -> Array:
    """``sum_k w_k (I - d_k d_k^T)``: how strongly the weighted rays pin a point down, direction by direction."""
    return np.asarray(np.einsum("k,kij->ij", weights, _across(directions)))


def _nearest_point(origins: Array, directions: Array, weights: Array) -> Array:
    """The point with the least weighted sum of squared distances to the rays (origin, unit direction)."""
    target = np.einsum("k,kij,kj->i", weights, _across(directions), origins)
    return np.asarray(np.linalg.solve(_normal_matrix(directions, weights), target))
