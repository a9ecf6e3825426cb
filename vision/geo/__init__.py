"""Location: where on the map an object seen in a frame stands.

- Metres on the ground: ``LocalFrame`` (WGS-84 ↔ local east/north metres), ``distance_m``, ``bearing_deg``,
  ``offset``.
- Fixed cameras: ``GroundCalibration`` from four or more image↔map point pairs; ``locate(box)`` maps the box's
  bottom-centre to latitude/longitude with an accuracy.
- Patrol vehicles: ``GpsTrack.load`` (GPX, NMEA, CSV), ``TrackAlignment`` (video time → GPS time),
  ``track.at(when)`` (position, heading, accuracy) and ``PatrolLocator.locate(vehicle, box, image_size)``; an
  object seen from several places along the drive: ``PatrolLocator.triangulate(views, image_size)``.

    >>> track = GpsTrack.load("pass_1.gpx")
    >>> vehicle = track.at(TrackAlignment(video_start).wall_time(frame.timestamp))
    >>> PatrolLocator(PatrolSettings()).locate(vehicle, box, (frame.width, frame.height))

Errors on bad input are ``GeoError``s (``TrackError`` naming the file and line, ``CalibrationError`` naming the
field), part of ``vision.errors.VisionError``.
"""

from vision.geo.calibration import GroundCalibration
from vision.geo.errors import CalibrationError, GeoError, TrackError
from vision.geo.local import LocalFrame, bearing_deg, distance_m, offset
from vision.geo.patrol import PatrolLocator, PatrolSettings, PatrolView, Sightline
from vision.geo.track import GpsTrack, TrackAlignment, TrackSettings
from vision.geo.track_io import GpsFix

__all__ = [
    "CalibrationError",
    "GeoError",
    "GpsFix",
    "GpsTrack",
    "GroundCalibration",
    "LocalFrame",
    "PatrolLocator",
    "PatrolSettings",
    "PatrolView",
    "Sightline",
    "TrackAlignment",
    "TrackError",
    "TrackSettings",
    "bearing_deg",
    "distance_m",
    "offset",
]
