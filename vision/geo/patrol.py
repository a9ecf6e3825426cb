"""Patrol video: where a boxed object is, from the vehicle's GPS position and heading and a flat-ground camera model.

The camera is a pinhole at ``height_m`` above flat ground, turned ``yaw_deg`` clockwise from the vehicle's heading
and tilted ``pitch_deg`` above the horizon, with no roll. The ray through the bottom-centre of a box (where the
object meets the ground) gives the compass bearing of the object; where that ray meets the ground gives its range.
Objects whose bottom edge is at or above the horizon (signs on walls, banners) do not meet the ground; neither do
they stand beyond the buildings: the range is capped where the ray meets the building line ``roadside_m`` to the
side the camera looks at, and at ``max_range_m``.

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
from vision.geo.local import Array, offset

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

    def __post_init__(self) -> None:
        if not self.height_m > 0:
            raise ValueError(f"height_m must be positive, got {self.height_m}")
        if not 0 < self.hfov_deg < 180:
            raise ValueError(f"hfov_deg must be in (0, 180), got {self.hfov_deg}")
        if not -90 < self.pitch_deg < 90:
            raise ValueError(f"pitch_deg must be in (-90, 90), got {self.pitch_deg}")
        if not self.max_range_m > 0 or (self.roadside_m is not None and not self.roadside_m > 0):
            raise ValueError("max_range_m and roadside_m must be positive")

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
        focal = width / 2.0 / math.tan(math.radians(s.hfov_deg) / 2.0)
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
