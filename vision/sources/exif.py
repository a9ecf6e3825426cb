"""When and where a photo was taken, from its EXIF block (Pillow's ``getexif()``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from PIL import Image

from vision.frame import GeoPoint

EXIF_IFD = 0x8769
GPS_IFD = 0x8825
_DATETIME = 0x0132  # IFD0, the file's modification time: a fallback only
_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011
_SUBSEC_TIME_ORIGINAL = 0x9291
_GPS_LATITUDE_REF, _GPS_LATITUDE, _GPS_LONGITUDE_REF, _GPS_LONGITUDE = 1, 2, 3, 4
_GPS_IMG_DIRECTION = 17
_GPS_H_POSITIONING_ERROR = 31


@dataclass(frozen=True)
class PhotoExif:
    """What EXIF says about a photo.

    Attributes:
        wall_time: DateTimeOriginal (falling back to DateTime). Aware when the file has OffsetTimeOriginal or a
            default timezone was given; otherwise naive camera-local time, since EXIF alone does not say the zone.
        gps: Latitude/longitude from the GPS IFD, with GPSImgDirection as heading and GPSHPositioningError as
            accuracy when present.
    """

    wall_time: datetime | None = None
    gps: GeoPoint | None = None


def read_exif(image: Image.Image, default_tz: tzinfo | None = None) -> PhotoExif:
    """Reads capture time and GPS position from an opened image; missing or malformed tags give None.

    Args:
        image: A Pillow image, before any EXIF rotation is applied.
        default_tz: Zone for times without OffsetTimeOriginal; None leaves them naive.
    """
    exif = image.getexif()
    if not exif:
        return PhotoExif()
    details = exif.get_ifd(EXIF_IFD)
    wall_time = _parse_datetime(
        details.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME),
        details.get(_SUBSEC_TIME_ORIGINAL),
        details.get(_OFFSET_TIME_ORIGINAL),
        default_tz,
    )
    return PhotoExif(wall_time=wall_time, gps=_parse_gps(exif.get_ifd(GPS_IFD)))


def _parse_datetime(text: Any, subsec: Any, offset: Any, default_tz: tzinfo | None) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.strptime(text.strip().rstrip("\x00"), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if isinstance(subsec, str) and subsec.strip().isdigit():
        moment = moment.replace(microsecond=int(subsec.strip()[:6].ljust(6, "0")))
    zone = _parse_offset(offset) or default_tz
    return moment.replace(tzinfo=zone) if zone is not None else moment


def _parse_offset(text: Any) -> timezone | None:
    """``"+08:00"`` → UTC+8."""
    if not isinstance(text, str) or len(text.strip()) != 6:
        return None
    sign, hours, minutes = text.strip()[0], text.strip()[1:3], text.strip()[4:6]
    if sign not in "+-" or not (hours.isdigit() and minutes.isdigit()):
        return None
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    return timezone(-delta if sign == "-" else delta)


def _parse_gps(gps: dict[int, Any]) -> GeoPoint | None:
    latitude = _degrees(gps.get(_GPS_LATITUDE), gps.get(_GPS_LATITUDE_REF), "S")
    longitude = _degrees(gps.get(_GPS_LONGITUDE), gps.get(_GPS_LONGITUDE_REF), "W")
    if latitude is None or longitude is None:
        return None
    try:
        return GeoPoint(
            lat=latitude,
            lon=longitude,
            accuracy_m=_number(gps.get(_GPS_H_POSITIONING_ERROR)),
            heading_deg=_number(gps.get(_GPS_IMG_DIRECTION)),
        )
    except ValueError:  # out-of-range coordinates: treat as absent rather than fail the photo
        return None


def _degrees(parts: Any, ref: Any, negative_ref: str) -> float | None:
    """Degrees/minutes/seconds rationals and an N/S/E/W reference → signed decimal degrees."""
    if not isinstance(parts, tuple | list) or len(parts) != 3:
        return None
    values = [_number(part) for part in parts]
    if any(value is None for value in values):
        return None
    degrees, minutes, seconds = (float(value or 0.0) for value in values)
    decimal = degrees + minutes / 60.0 + seconds / 3600.0
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    return -decimal if isinstance(ref, str) and ref.strip().upper() == negative_ref else decimal


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if number == number else None  # IFDRational 0/0 is NaN
