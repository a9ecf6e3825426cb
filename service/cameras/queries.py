"""Data access for cameras, by the department's key (``cam-012``) or row id: find, require, add, list, change, remove.

Keyword-only functions taking the session; they flush but never commit (the caller's unit of work commits once).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, func, select
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


def get_camera_by_id(session: Session, *, camera_id: int) -> Camera:
    """The camera with row id ``camera_id``.

    Raises:
        NotFound: There is none.
    """
    camera = session.get(Camera, camera_id)
    if camera is None:
        raise NotFound(f"no camera {camera_id}")
    return camera


def list_cameras(session: Session, *, kind: str | None = None) -> list[Camera]:
    """Every camera (of ``kind`` when given), ordered by key."""
    return list(session.scalars(_cameras(kind=kind).order_by(Camera.key)))


def page_cameras(
    session: Session, *, kind: str | None = None, enabled: bool | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[Camera], int]:
    """A page of cameras ordered by key, and how many match."""
    query = _cameras(kind=kind, enabled=enabled)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(query.order_by(Camera.key).limit(limit).offset(offset))
    return list(items), count


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
    calibration: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
    enabled: bool = True,
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
        calibration: Image↔map point pairs of a fixed camera.
        settings: Ignore masks, sampling and other options.
        enabled: Whether it is scanned and streamed.

    Raises:
        Invalid: A malformed key, unknown kind, or a position out of range (``field`` names it).
        Conflict: The key is taken.
    """
    _check_key(key)
    if kind not in CAMERA_KINDS:
        raise Invalid(f"{kind!r} is not one of {', '.join(CAMERA_KINDS)}", field="kind")
    _check_position(lat, lon, heading_deg)
    _check_key_free(session, key=key)
    camera = Camera(
        key=key,
        kind=kind,
        name=name,
        stream_url=stream_url,
        lat=lat,
        lon=lon,
        heading_deg=None if heading_deg is None else heading_deg % 360.0,
        calibration=calibration,
        settings=settings,
        enabled=enabled,
    )
    session.add(camera)
    _flush_unique(session, key=key)
    return camera


def update_camera(session: Session, *, camera_id: int, changes: Mapping[str, Any]) -> Camera:
    """Set the columns named in ``changes`` (already validated by the caller) on a camera.

    Raises:
        NotFound: No such camera.
        Conflict: The new key is taken.
    """
    camera = get_camera_by_id(session, camera_id=camera_id)
    if "key" in changes and changes["key"] != camera.key:
        _check_key_free(session, key=changes["key"])
    for name, value in changes.items():
        setattr(camera, name, value)
    _flush_unique(session, key=camera.key)
    return camera


def delete_camera(session: Session, *, camera_id: int) -> None:
    """Remove a camera and its references (candidates keep their history with no camera).

    Raises:
        NotFound: No such camera.
    """
    session.delete(get_camera_by_id(session, camera_id=camera_id))
    session.flush()


def _cameras(*, kind: str | None = None, enabled: bool | None = None) -> Select[Camera]:
    query = select(Camera)
    if kind is not None:
        query = query.where(Camera.kind == kind)
    if enabled is not None:
        query = query.where(Camera.enabled == enabled)
    return query


def _check_key_free(session: Session, *, key: str) -> None:
    if session.scalars(select(Camera.id).where(Camera.key == key)).first() is not None:
        raise Conflict(f"a camera with key {key!r} already exists", field="key")


def _flush_unique(session: Session, *, key: str) -> None:
    try:
        session.flush()
    except IntegrityError as error:  # lost a race with a concurrent insert of the same key
        raise Conflict(f"a camera with key {key!r} already exists", field="key") from error


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
