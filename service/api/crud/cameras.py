"""Cameras: paged lists, full CRUD by id (adding references is :mod:`service.references`)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.api.schemas.cameras import CameraCreate, CameraUpdate
from service.db.models import Camera, Reference
from service.errors import Conflict, NotFound


def list_cameras(
    session: Session, *, kind: str | None = None, enabled: bool | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[Camera], int]:
    """A page of cameras ordered by key, and how many match."""
    query = select(Camera)
    if kind is not None:
        query = query.where(Camera.kind == kind)
    if enabled is not None:
        query = query.where(Camera.enabled == enabled)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(query.order_by(Camera.key).limit(limit).offset(offset))
    return list(items), count


def get_camera(session: Session, *, camera_id: int) -> Camera:
    """The camera with ``camera_id``.

    Raises:
        NotFound: There is none.
    """
    camera = session.get(Camera, camera_id)
    if camera is None:
        raise NotFound(f"no camera {camera_id}")
    return camera


def find_camera(session: Session, *, key: str) -> Camera | None:
    """The camera called ``key``, or ``None``."""
    return session.scalars(select(Camera).where(Camera.key == key)).one_or_none()


def create_camera(session: Session, *, camera_in: CameraCreate) -> Camera:
    """Add a camera.

    Raises:
        Conflict: Its key is taken.
    """
    _check_key_free(session, key=camera_in.key)
    camera = Camera(**camera_in.model_dump())
    session.add(camera)
    _flush_unique(session, key=camera_in.key)
    return camera


def update_camera(session: Session, *, camera_id: int, changes: CameraUpdate) -> Camera:
    """Apply the fields set in ``changes``.

    Raises:
        NotFound: No such camera.
        Conflict: The new key is taken.
    """
    camera = get_camera(session, camera_id=camera_id)
    values = changes.model_dump(exclude_unset=True)
    if "key" in values and values["key"] != camera.key:
        _check_key_free(session, key=values["key"])
    for name, value in values.items():
        setattr(camera, name, value)
    _flush_unique(session, key=camera.key)
    return camera


def delete_camera(session: Session, *, camera_id: int) -> None:
    """Remove a camera and its references (candidates keep their history with no camera).

    Raises:
        NotFound: No such camera.
    """
    camera = get_camera(session, camera_id=camera_id)
    session.delete(camera)
    session.flush()


def get_reference(session: Session, *, camera_id: int, reference_id: int) -> Reference:
    """One reference of a camera.

    Raises:
        NotFound: No such reference on that camera.
    """
    reference = session.get(Reference, reference_id)
    if reference is None or reference.camera_id != camera_id:
        raise NotFound(f"camera {camera_id} has no reference {reference_id}")
    return reference


def _check_key_free(session: Session, *, key: str) -> None:
    if session.scalars(select(Camera.id).where(Camera.key == key)).first() is not None:
        raise Conflict(f"a camera with key {key!r} already exists")


def _flush_unique(session: Session, *, key: str) -> None:
    try:
        session.flush()
    except IntegrityError as error:  # lost a race with a concurrent insert of the same key
        raise Conflict(f"a camera with key {key!r} already exists") from error
