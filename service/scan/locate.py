"""Locators a scan builds from its plan: the pipeline's own, a GPS clock offset, and photos placed by their EXIF GPS."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from service.pipeline.locate import CalibratedLocator, CameraPositionLocator, Locator
from service.pipeline.wiring import patrol_locator
from service.scan.plan import SourcePlan
from vision.frame import GeoPoint
from vision.geo import GroundCalibration, PatrolSettings
from vision.sighting import Sighting


@dataclass(frozen=True)
class ShiftedLocator:
    """Looks the position up ``offset_s`` seconds later than the sighting's video time (GPS clock = video + offset)."""

    locator: Locator
    offset_s: float

    def locate(self, sighting: Sighting, seen_at: datetime) -> GeoPoint | None:
        """The wrapped locator's answer at ``seen_at + offset_s``."""
        return self.locator.locate(sighting, seen_at + timedelta(seconds=self.offset_s))


@dataclass(frozen=True)
class PhotoGpsLocator:
    """A photo with GPS in its EXIF: the camera's position, widened by how far a photographed object may stand."""

    range_m: float = 15.0

    def locate(self, sighting: Sighting, seen_at: datetime) -> GeoPoint | None:
        """The best frame's GPS position, or ``None`` without one."""
        gps = sighting.best_frame.gps
        if gps is None:
            return None
        return GeoPoint(gps.lat, gps.lon, accuracy_m=math.hypot(gps.accuracy_m or 0.0, self.range_m))


def plan_locator(plan: SourcePlan, *, gps_offset_s: float = 0.0) -> Locator | None:
    """The locator a plan calls for (``plan.location``); ``None`` when the source cannot be placed.

    Raises:
        vision.geo.TrackError: The GPS track cannot be read.
        vision.geo.CalibrationError: The camera's calibration is unusable.
        ValueError: The camera's ``patrol`` settings are not `PatrolSettings` fields.
    """
    camera = plan.camera
    if plan.location == "GPS track" and plan.track is not None:
        mount = _patrol_settings(camera.settings.get("patrol") if camera is not None else None, plan)
        locator: Locator = patrol_locator(plan.track, mount)
        return ShiftedLocator(locator, gps_offset_s) if gps_offset_s else locator
    if plan.location == "photo GPS (EXIF)":
        return PhotoGpsLocator()
    if camera is None:
        return None
    if plan.location == "calibration" and camera.calibration:
        return CalibratedLocator(GroundCalibration.from_dict(camera.calibration))
    if plan.location == "camera position" and camera.lat is not None and camera.lon is not None:
        return CameraPositionLocator(GeoPoint(camera.lat, camera.lon))
    return None


def _patrol_settings(values: Any, plan: SourcePlan) -> PatrolSettings:
    if values is None:
        return PatrolSettings()
    if not isinstance(values, dict):
        raise ValueError(f"camera {plan.camera_key}: settings.patrol must be an object of PatrolSettings fields")
    try:
        return PatrolSettings(**values)
    except TypeError as error:
        raise ValueError(f"camera {plan.camera_key}: settings.patrol: {error}") from error
