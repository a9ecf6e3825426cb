"""Data access for cameras, by the department's key (``cam-012``): find, require, add, list.

Keyword-only functions taking the session; they flush but never commit (the caller's unit of work commits once).
"""

from __future__ import annotations

import math
import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.db.models import Camera
from service.db.models.cameras import CAMERA_KINDS
from service.errors import Conflict, Invalid, NotFound

# The same rule as the API's CameraCreate: keys appear in file names and URLs.
KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")


def find_camera(session: Session, *, key: str) -> Camera | None:
    """The camera called ``key``, or ``None``."""
    return session.scalars(select(Camera).where(Camera.key == key)).one_or_none()


def get_camera(session: Session, *, key: str) -> Camera:
    """The camera called ``key``.

    Raises:
        NotFound: There is none (``field="camera"``).
    """
    camera = find_camera(session, key=key)
    if camera is None:
        raise NotFound(f"no camera {key!r} (add it with 'xiuhua cameras add')", field="camera")
    return camera


def list_cameras(session: Session, *, kind: str | None = None) -> list[Camera]:
    """Every camera (of ``kind`` when given), ordered by key."""
    query = select(Camera)
    if kind is not None:
        query = query.where(Camera.kind == kind)
    return list(session.scalars(query.order_by(Camera.key)))


def create_camera(
    session: Session,
    *,
    key: str,
    kind: str,
    name: str = "",
    stream_url: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    heading_deg: float | None = None,
) -> Camera:
    """Add a camera.

    Args:
        session: The unit of work.
        key: The department's name for it; letters, digits and ``_.:-``, at most 128 characters.
        kind: ``fixed``, ``ptz`` or ``patrol``.
        name: A readable name.
        stream_url: Where its live video is (RTSP, HLS, ...).
        lat: Latitude of a fixed or PTZ camera (WGS-84), with ``lon``.
        lon: Longitude, with ``lat``.
        heading_deg: Direction a fixed camera looks, degrees clockwise from north.

    Raises:
        Invalid: A malformed key, unknown kind, or a position out of range (``field`` names it).
        Conflict: The key is taken.
    """
    _check_key(key)
    if kind not in CAMERA_KINDS:
        raise Invalid(f"{kind!r} is not one of {', '.join(CAMERA_KINDS)}", field="kind")
    _check_position(lat, lon, heading_deg)
    if find_camera(session, key=key) is not None:
        raise Conflict(f"a camera with key {key!r} already exists", field="key")
    camera = Camera(
        key=key,
        kind=kind,
        name=name,
        stream_url=stream_url,
        lat=lat,
        lon=lon,
        heading_deg=None if heading_deg is None else heading_deg % 360.0,
    )
    session.add(camera)
    try:
        session.flush()
    except IntegrityError as error:  # lost a race with a concurrent insert of the same key
        raise Conflict(f"a camera with key {key!r} already exists", field="key") from error
    return camera


def _check_key(key: str) -> None:
    if not KEY_PATTERN.fullmatch(key) or len(key) > 128:
        raise Invalid(
            f"{key!r} must start with a letter or digit, hold only letters, digits and _ . : -, "
            "and have at most 128 characters",
            field="key",
        )


def _check_position(lat: float | None, lon: float | None, heading_deg: float | None) -> None:
    if (lat is None) != (lon is None):
        raise Invalid("give both lat and lon, or neither", field="lat" if lat is None else "lon")
    if lat is not None and not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise Invalid(f"latitude {lat} is outside [-90, 90]", field="lat")
    if lon is not None and not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise Invalid(f"longitude {lon} is outside [-180, 180]", field="lon")
    if heading_deg is not None and not math.isfinite(heading_deg):
        raise Invalid(f"heading {heading_deg} is not a number", field="heading_deg")
