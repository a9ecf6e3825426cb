"""Errors of the location layer: bad GPS files, bad calibrations. Each names the file, field or line at fault."""

from __future__ import annotations

from vision.errors import VisionError


class GeoError(VisionError):
    """Base of every location error (a GPS track or a calibration that cannot be used)."""


class TrackError(GeoError):
    """A GPS track file is unreadable or wrong: malformed lines, no fixes, times out of order, impossible positions.

    Attributes:
        source: The file (or other name) the track came from.
        reason: What is wrong.
        line: 1-based line number in the file, when one line is at fault.
    """

    def __init__(self, source: str, reason: str, line: int | None = None) -> None:
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {reason}")
        self.source = source
        self.reason = reason
        self.line = line


class CalibrationError(GeoError):
    """A camera calibration is unusable: too few pairs, collinear or duplicate points, NaN, a missing field.

    Attributes:
        field: The field or point at fault (``"image_points[2]"``, ``"map_points"``), when known.
        reason: What is wrong.
    """

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(f"calibration {field}: {reason}" if field else f"calibration: {reason}")
        self.field = field
        self.reason = reason
