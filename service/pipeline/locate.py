"""Where a sighting is on the map: from a fixed camera's calibration, a patrol GPS track, or the camera's position."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import numpy as np

from vision.frame import GeoPoint
from vision.geo.calibration import GroundCalibration
from vision.geo.patrol import PatrolLocator, PatrolView
from vision.geo.track import GpsTrack
from vision.sighting import Sighting


class Locator(Protocol):
    """Places one sighting; ``None`` when it cannot (no GPS at that time, a box above the horizon)."""

    def locate(self, sighting: Sighting, seen_at: datetime) -> GeoPoint | None:
        """The sighting's position at wall time ``seen_at`` (the time of its best frame)."""
        ...


@dataclass(frozen=True)
class CalibratedLocator:
    """A fixed or PTZ-preset camera with a ground-plane calibration: the box's bottom-centre on the map."""

    calibration: GroundCalibration

    def locate(self, sighting: Sighting, seen_at: datetime) -> GeoPoint | None:
        """Bottom-centre of the best box through the calibration's homography."""
        return self.calibration.locate(sighting.best_box.astype(np.float64))


@dataclass(frozen=True)
class CameraPositionLocator:
    """A camera known only by where it stands: every sighting gets the camera's position, widened by its range."""

    position: GeoPoint
    range_m: float = 30.0

    def locate(self, sighting: Sighting, seen_at: datetime) -> GeoPoint | None:
        """The camera's position, with accuracy covering what it can see."""
        own = self.position.accuracy_m or 0.0
        return GeoPoint(self.position.lat, self.position.lon, accuracy_m=math.hypot(own, self.range_m))


@dataclass(frozen=True)
class PatrolTrackLocator:
    """A patrol vehicle: its GPS position at the best frame's time, offset to where the object stands."""

    track: GpsTrack
    locator: PatrolLocator

    def locate(self, sighting: Sighting, seen_at: datetime) -> GeoPoint | None:
        """Where the rays through the sighting's boxes along its path cross (`PatrolLocator.triangulate`); when they
        do not fix a point (too few boxes, too little turn), the vehicle's position at ``seen_at`` offset by the
        best box's bearing and range."""
        frame = sighting.best_frame
        size = (frame.width, frame.height)
        if sighting.path is not None:
            views = []
            for time, box in zip(sighting.path.times.tolist(), sighting.path.boxes, strict=True):
                vehicle = self.track.at(seen_at + timedelta(seconds=time - frame.timestamp))
                if vehicle is not None:
                    views.append(PatrolView(vehicle, box.astype(np.float64)))
            crossing = self.locator.triangulate(views, size)
            if crossing is not None:
                return crossing
        vehicle = self.track.at(seen_at)
        if vehicle is None:
            return None
        return self.locator.locate(vehicle, sighting.best_box.astype(np.float64), size)
