"""Frames and the places they were taken."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class GeoPoint:
    """A WGS-84 position, with its uncertainty when known.

    Attributes:
        lat: Latitude in degrees.
        lon: Longitude in degrees.
        accuracy_m: One-sigma horizontal uncertainty in metres, if known.
        heading_deg: Direction of travel or view, degrees clockwise from north, if known.
    """

    lat: float
    lon: float
    accuracy_m: float | None = None
    heading_deg: float | None = None

    def __post_init__(self) -> None:
        if not -90.0 <= self.lat <= 90.0:
            raise ValueError(f"latitude {self.lat} is outside [-90, 90]")
        if not -180.0 <= self.lon <= 180.0:
            raise ValueError(f"longitude {self.lon} is outside [-180, 180]")


@dataclass(frozen=True, eq=False)
class Frame:
    """One decoded picture and where it came from.

    Attributes:
        image: ``(H, W, 3)`` uint8 BGR pixels (OpenCV order).
        source_id: The file path or stream URL the frame came from.
        index: Frame number in decode order within the source (0-based); for images, the file's position.
        timestamp: Seconds since the start of the source, from the container's presentation timestamps.
        wall_time: Absolute time the frame was taken, when known (EXIF, stream clock, file metadata).
        gps: Where the camera was, when known.
        keyframe: Whether the frame is an intra (key) frame in its stream.
    """

    image: npt.NDArray[np.uint8]
    source_id: str
    index: int
    timestamp: float
    wall_time: datetime | None = None
    gps: GeoPoint | None = None
    keyframe: bool = False

    def __post_init__(self) -> None:
        if self.image.ndim != 3 or self.image.shape[2] != 3 or self.image.dtype != np.uint8:
            raise ValueError(
                f"Frame image must be (H, W, 3) uint8, got {self.image.shape} {self.image.dtype} from {self.source_id}"
            )

    @property
    def height(self) -> int:
        """Image height in pixels."""
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        """Image width in pixels."""
        return int(self.image.shape[1])
