"""Capturing a reference: one checked picture from a file, stream or array, stored as JPEG, recorded in the database.

::

    store = ReferenceStore()                      # data/references/
    with sessions() as session, session.begin():
        new = capture_reference(session, store=store, camera_key="cam-012", source="rtsp://…/ch1", frames=10)
        new.reference.image_path                  # relative to store.root
"""

from __future__ import annotations

import os
from datetime import datetime, tzinfo

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from service.cameras.queries import get_camera
from service.db import utcnow
from service.errors import Invalid
from service.references.frames import check_picture, grab_frame
from service.references.queries import NewReference, add_reference, check_new_reference, check_place
from service.references.store import ReferenceStore
from vision.frame import GeoPoint


def capture_reference(
    session: Session,
    *,
    store: ReferenceStore,
    camera_key: str,
    source: str | os.PathLike[str] | None = None,
    image: npt.NDArray[np.uint8] | None = None,
    preset: str | None = None,
    taken_at: datetime | None = None,
    position: GeoPoint | None = None,
    frames: int = 1,
    replace: bool = False,
    default_tz: tzinfo | None = None,
    now: datetime | None = None,
) -> NewReference:
    """Take a reference picture of a place, store it as JPEG and record it.

    Everything is checked before the file is written: the camera, the place (preset, position), the picture, and
    whether the place already has a current reference.

    Args:
        session: The unit of work (flushed, not committed).
        store: Where the JPEG goes.
        camera_key: The camera's key.
        source: An image or video file, a folder of images or a stream URL (give this or ``image``).
        image: An ``(H, W, 3)`` uint8 BGR picture already decoded (give this or ``source``).
        preset: The PTZ preset; ``None`` for a fixed camera, a PTZ home view or a patrol position.
        taken_at: When the picture was taken (timezone-aware); default: the frame's wall time (EXIF, the video's
            creation time plus the frame's timestamp, the stream's clock), else ``now``.
        position: Where it was taken, with ``heading_deg``; default: the photo's EXIF GPS. Required for a patrol
            camera.
        frames: Read this many frames and keep the sharpest (1: the first readable frame).
        replace: Mark the place's current reference(s) replaced instead of refusing.
        default_tz: Zone of wall times that carry none (EXIF without offset); ``None``: this machine's zone.
        now: The current time (default: now), used when the frame has no wall time and as ``replaced_at``.

    Returns:
        The new reference and the ones it replaced.

    Raises:
        NotFound: No such camera.
        Invalid: Not exactly one of ``source``/``image``; an unreadable, blank or tiny picture (the message names
            the file); ``frames`` below 1; a naive ``taken_at``; a preset on a fixed or patrol camera; a patrol
            reference without position or heading.
        Conflict: The place has a current reference and ``replace`` is false, or one taken at the same moment.
    """
    if (source is None) == (image is None):
        raise Invalid("give either a source (file or URL) or an image", field="source")
    if taken_at is not None and taken_at.tzinfo is None:
        raise Invalid("must be timezone-aware", field="taken_at")
    if frames < 1:
        raise Invalid(f"must be at least 1, got {frames}", field="frames")
    camera = get_camera(session, key=camera_key)
    check_place(camera, preset=preset, position=position, require_position=False)
    moment = now or utcnow()
    if image is not None:
        check_picture(image, name="image")
        picture, wall_time, gps = image, None, None
    else:
        assert source is not None
        frame = grab_frame(source, frames=frames, default_tz=default_tz)
        picture, wall_time, gps = frame.image, frame.wall_time, frame.gps
    where = position or gps
    taken = taken_at or _aware(wall_time, default_tz) or moment
    check_new_reference(session, camera=camera, taken_at=taken, preset=preset, position=where, replace=replace)
    stored = store.save_reference(picture, taken_at=taken, name_hint=f"{camera.key}-{preset or ''}")
    return add_reference(
        session,
        camera=camera,
        image_path=stored.relative_path,
        sha256=stored.sha256,
        taken_at=taken,
        preset=preset,
        position=where,
        replace=replace,
        now=moment,
    )


def _aware(moment: datetime | None, default_tz: tzinfo | None) -> datetime | None:
    """``moment`` with a zone: its own, else ``default_tz``, else this machine's local zone."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=default_tz) if default_tz is not None else moment.astimezone()
