"""Data access for reference images: the current one of a place, its history, the nearest one on a route, adding.

A *place* is what a reference shows and what a newer reference replaces:

- a fixed camera's view (no preset);
- a PTZ camera's preset (``None`` for its home view);
- a patrol camera's position: references within ``PATROL_SAME_PLACE_M`` metres whose headings differ by at most
  ``SAME_VIEW_HEADING_DEG`` show the same place.

Keyword-only functions taking the session; they flush but never commit (the caller's unit of work commits once).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.cameras.queries import get_camera
from service.db import utcnow
from service.db.models import Camera, Reference
from service.errors import Conflict, Invalid, NotFound
from service.geo import degree_box, distance_m, heading_difference_deg
from vision.frame import GeoPoint

PATROL_SAME_PLACE_M = 10.0
SAME_VIEW_HEADING_DEG = 45.0


@dataclass(frozen=True)
class ReferenceMatch:
    """The reference found for a patrol position, and how far it is from it.

    Attributes:
        reference: The reference row.
        distance_m: Metres between the position and where the reference was taken.
        heading_difference_deg: Degrees between the two headings, in ``[0, 180]``.
    """

    reference: Reference
    distance_m: float
    heading_difference_deg: float


@dataclass(frozen=True)
class NewReference:
    """A reference just recorded, and the ones of the same place it replaced (kept, marked ``replaced_at``).

    Attributes:
        reference: The new row (flushed: it has its id).
        replaced: The previously current references of the same place, now replaced.
    """

    reference: Reference
    replaced: tuple[Reference, ...]


def current_reference(session: Session, *, camera_key: str, preset: str | None = None) -> Reference | None:
    """The current (not replaced) reference of a fixed camera's view or a PTZ camera's preset.

    Args:
        session: The unit of work.
        camera_key: The camera's key.
        preset: The PTZ preset; ``None`` for a fixed camera or a PTZ camera's home view.

    Returns:
        The newest current reference of that place, or ``None`` when it has none yet.

    Raises:
        NotFound: No such camera.
        Invalid: A patrol camera (use :func:`nearest_reference`), or a preset given for a fixed camera.
    """
    camera = get_camera(session, key=camera_key)
    check_place(camera, preset=preset, position=None, require_position=False)
    if camera.kind == "patrol":
        raise Invalid(f"camera {camera.key!r} is a patrol camera: look its references up by position", field="camera")
    query = _at_preset(camera, preset).where(Reference.replaced_at.is_(None))
    return session.scalars(_newest_first(query).limit(1)).first()


def nearest_reference(
    session: Session,
    *,
    camera_key: str | None,
    position: GeoPoint,
    max_distance_m: float = 30.0,
    max_heading_diff_deg: float = 45.0,
) -> ReferenceMatch | None:
    """The current reference nearest to a patrol position among those looking the same way.

    Args:
        session: The unit of work.
        camera_key: Only this camera's references; ``None`` for the references of every patrol camera.
        position: Where the vehicle is, with ``heading_deg`` (the direction the camera looks).
        max_distance_m: Farthest a reference may have been taken from ``position``.
        max_heading_diff_deg: Largest difference between the two headings.

    Returns:
        The nearest such reference (ties: smaller heading difference, then newer), or ``None``.

    Raises:
        NotFound: ``camera_key`` names no camera.
        Invalid: ``position`` has no heading, or a limit is negative.
    """
    if position.heading_deg is None or not math.isfinite(position.heading_deg):
        raise Invalid("the position needs a heading to find a reference looking the same way", field="heading")
    if not (max_distance_m >= 0 and max_heading_diff_deg >= 0):
        raise Invalid("distance and heading limits must not be negative", field="max_distance_m")
    query = _current_positioned(select(Reference), position, max_distance_m)
    if camera_key is not None:
        query = query.where(Reference.camera_id == get_camera(session, key=camera_key).id)
    else:
        query = query.join(Camera, Camera.id == Reference.camera_id).where(Camera.kind == "patrol")
    matches = _matches(session.scalars(query).all(), position, max_distance_m, max_heading_diff_deg)
    return min(matches, key=_match_order, default=None)


def get_reference(session: Session, *, camera_id: int, reference_id: int) -> Reference:
    """One reference of a camera, by row ids.

    Raises:
        NotFound: No such reference on that camera.
    """
    reference = session.get(Reference, reference_id)
    if reference is None or reference.camera_id != camera_id:
        raise NotFound(f"camera {camera_id} has no reference {reference_id}")
    return reference


def list_references(
    session: Session, *, camera_key: str | None = None, include_replaced: bool = False
) -> list[Reference]:
    """References of one camera (or all), current ones only unless ``include_replaced``.

    Ordered by camera key, then preset (home view first), then newest first.

    Raises:
        NotFound: ``camera_key`` names no camera.
    """
    query = select(Reference).join(Camera, Camera.id == Reference.camera_id)
    if camera_key is not None:
        query = query.where(Reference.camera_id == get_camera(session, key=camera_key).id)
    if not include_replaced:
        query = query.where(Reference.replaced_at.is_(None))
    query = query.order_by(
        Camera.key, Reference.preset.is_not(None), Reference.preset, Reference.taken_at.desc(), Reference.id.desc()
    )
    return list(session.scalars(query))


def reference_history(
    session: Session, *, camera_key: str, preset: str | None = None, position: GeoPoint | None = None
) -> list[Reference]:
    """Every reference of one place, current and replaced, newest first.

    Args:
        session: The unit of work.
        camera_key: The camera's key.
        preset: The PTZ preset (``None``: fixed view or home view).
        position: For a patrol camera: the position (with heading) whose place to list.

    Raises:
        NotFound: No such camera.
        Invalid: The place does not fit the camera's kind (see :func:`check_place`).
    """
    camera = get_camera(session, key=camera_key)
    check_place(camera, preset=preset, position=position)
    return references_at_place(session, camera=camera, preset=preset, position=position, include_replaced=True)


def references_at_place(
    session: Session,
    *,
    camera: Camera,
    preset: str | None,
    position: GeoPoint | None,
    include_replaced: bool = False,
) -> list[Reference]:
    """The references showing the same place as ``preset``/``position`` of ``camera``, newest first.

    For a patrol camera with a position: those within ``PATROL_SAME_PLACE_M`` looking within
    ``SAME_VIEW_HEADING_DEG`` of its heading. Otherwise: those of ``preset`` (a patrol camera without a position
    gets all of its references). Current ones only unless ``include_replaced``.
    """
    if camera.kind != "patrol" or position is None:
        query = _at_preset(camera, preset)
        if not include_replaced:
            query = query.where(Reference.replaced_at.is_(None))
        return list(session.scalars(_newest_first(query)))
    query = select(Reference).where(Reference.camera_id == camera.id)
    query = _current_positioned(query, position, PATROL_SAME_PLACE_M, current_only=not include_replaced)
    matches = _matches(
        session.scalars(_newest_first(query)).all(), position, PATROL_SAME_PLACE_M, SAME_VIEW_HEADING_DEG
    )
    return [match.reference for match in matches]


def add_reference(
    session: Session,
    *,
    camera: Camera,
    image_path: str,
    sha256: str,
    taken_at: datetime,
    preset: str | None = None,
    position: GeoPoint | None = None,
    replace: bool = False,
    now: datetime | None = None,
) -> NewReference:
    """Record a reference image of a place; with ``replace``, the place's current references are marked replaced.

    Call :func:`check_new_reference` first to fail before writing the image file.

    Args:
        session: The unit of work.
        camera: The camera row.
        image_path: The JPEG's path relative to the reference store's root.
        sha256: Hex SHA-256 of the JPEG.
        taken_at: When the picture was taken (timezone-aware).
        preset: The PTZ preset (``None`` for a fixed camera, a home view, a patrol position).
        position: Where it was taken; required, with heading, for a patrol camera.
        replace: Replace the current reference(s) of the same place instead of refusing.
        now: The replacement time (default: now).

    Raises:
        Invalid: The place does not fit the camera's kind, or ``taken_at`` is naive.
        Conflict: The place already has a current reference and ``replace`` is false, or the camera already has a
            reference of that preset taken at the same moment.
    """
    current = check_new_reference(
        session, camera=camera, taken_at=taken_at, preset=preset, position=position, replace=replace
    )
    moment = now or utcnow()
    for previous in current:
        previous.replaced_at = moment
    reference = Reference(
        camera_id=camera.id,
        preset=preset,
        lat=None if position is None else position.lat,
        lon=None if position is None else position.lon,
        heading_deg=None if position is None or position.heading_deg is None else position.heading_deg % 360.0,
        taken_at=taken_at,
        image_path=image_path,
        sha256=sha256,
    )
    session.add(reference)
    try:
        session.flush()
    except IntegrityError as error:  # a concurrent capture of the same moment
        raise Conflict(f"camera {camera.key!r} already has a reference taken at {taken_at.isoformat()}") from error
    return NewReference(reference, tuple(current))


def check_new_reference(
    session: Session,
    *,
    camera: Camera,
    taken_at: datetime,
    preset: str | None,
    position: GeoPoint | None,
    replace: bool,
) -> list[Reference]:
    """Check that a new reference may be recorded; return the current references it would replace.

    Raises:
        Invalid: The place does not fit the camera's kind, or ``taken_at`` is naive.
        Conflict: See :func:`add_reference`.
    """
    check_place(camera, preset=preset, position=position)
    if taken_at.tzinfo is None:
        raise Invalid("must be timezone-aware", field="taken_at")
    same_moment = session.scalars(_at_preset(camera, preset).where(Reference.taken_at == taken_at)).first()
    if same_moment is not None:
        raise Conflict(
            f"camera {camera.key!r} already has reference {same_moment.id}{_preset_words(preset)} taken at "
            f"{taken_at.isoformat()}",
            field="taken_at",
        )
    current = references_at_place(session, camera=camera, preset=preset, position=position)
    if current and not replace:
        ids = ", ".join(str(reference.id) for reference in current)
        raise Conflict(
            f"camera {camera.key!r}{_preset_words(preset)} already has current reference {ids} at this place; "
            "replace it explicitly (--replace)",
            field="replace",
        )
    return current


def check_place(
    camera: Camera, *, preset: str | None, position: GeoPoint | None, require_position: bool = True
) -> None:
    """Check that a preset and position fit the camera's kind.

    A fixed camera has no presets; a patrol camera has no presets and, with ``require_position``, needs a position
    with a heading; a PTZ camera takes any preset.

    Raises:
        Invalid: Naming the field at fault.
    """
    if preset is not None and (not preset.strip() or len(preset) > 64):
        raise Invalid(f"{preset!r} must be 1 to 64 characters, not blank", field="preset")
    if preset is not None and camera.kind in ("fixed", "patrol"):
        raise Invalid(f"camera {camera.key!r} is a {camera.kind} camera: it has no presets", field="preset")
    if camera.kind != "patrol" or not require_position:
        return
    if position is None:
        raise Invalid(
            f"camera {camera.key!r} is a patrol camera: a reference needs the position it was taken at "
            "(lat, lon, heading; or GPS in the photo's EXIF)",
            field="position",
        )
    if position.heading_deg is None or not math.isfinite(position.heading_deg):
        raise Invalid(
            f"camera {camera.key!r} is a patrol camera: a reference needs the heading it looks along", field="heading"
        )


def _at_preset(camera: Camera, preset: str | None) -> Select[Any]:
    same_preset: ColumnElement[bool] = Reference.preset.is_(None) if preset is None else Reference.preset == preset
    return select(Reference).where(Reference.camera_id == camera.id, same_preset)


def _current_positioned(
    query: Select[Any], position: GeoPoint, radius_m: float, *, current_only: bool = True
) -> Select[Any]:
    """Restrict to positioned references in the degree box around ``position`` (exact distance is checked later)."""
    min_lon, min_lat, max_lon, max_lat = degree_box(position.lat, position.lon, radius_m)
    query = query.where(
        Reference.heading_deg.is_not(None),
        Reference.lat.between(min_lat, max_lat),
        Reference.lon.between(min_lon, max_lon),
    )
    return query.where(Reference.replaced_at.is_(None)) if current_only else query


def _matches(
    references: Sequence[Reference], position: GeoPoint, max_distance_m: float, max_heading_diff_deg: float
) -> list[ReferenceMatch]:
    assert position.heading_deg is not None
    found = []
    for reference in references:
        assert reference.lat is not None and reference.lon is not None and reference.heading_deg is not None
        distance = distance_m(position.lat, position.lon, reference.lat, reference.lon)
        turn = heading_difference_deg(position.heading_deg, reference.heading_deg)
        if distance <= max_distance_m and turn <= max_heading_diff_deg:
            found.append(ReferenceMatch(reference, distance, turn))
    return found


def _match_order(match: ReferenceMatch) -> tuple[float, float, float, int]:
    return (match.distance_m, match.heading_difference_deg, -match.reference.taken_at.timestamp(), -match.reference.id)


def _newest_first(query: Select[Any]) -> Select[Any]:
    return query.order_by(Reference.taken_at.desc(), Reference.id.desc())


def _preset_words(preset: str | None) -> str:
    return "" if preset is None else f" preset {preset!r}"
