"""Cameras (CRUD, admin to change) and their reference images."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from fastapi.responses import FileResponse
from pydantic import AwareDatetime

from service import references
from service.api import media
from service.api.deps import AdminDep, ContextDep, SessionDep, UserDep
from service.api.schemas.cameras import (
    CameraCreate,
    CameraKind,
    CameraPublic,
    CamerasPublic,
    CameraUpdate,
    ReferencePublic,
    ReferencesPublic,
)
from service.api.schemas.common import Heading, Latitude, Longitude, error_responses
from service.cameras import queries as camera_store
from service.errors import Invalid, NotFound
from service.evidence import EvidenceNotFound, UnsafeEvidencePath
from vision.frame import GeoPoint

router = APIRouter(prefix="/api/cameras", tags=["cameras"], responses=error_responses(401, 403))


@router.get("", response_model=CamerasPublic)
def list_cameras(
    user: UserDep,
    session: SessionDep,
    kind: CameraKind | None = None,
    enabled: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CamerasPublic:
    """Cameras by key."""
    items, count = camera_store.page_cameras(session, kind=kind, enabled=enabled, limit=limit, offset=offset)
    return CamerasPublic(items=[CameraPublic.model_validate(camera) for camera in items], count=count)


@router.post("", response_model=CameraPublic, status_code=201, responses=error_responses(409, 422))
def create_camera(body: CameraCreate, admin: AdminDep, session: SessionDep) -> CameraPublic:
    """Add a camera."""
    camera = camera_store.create_camera(session, **body.model_dump())
    session.commit()
    return CameraPublic.model_validate(camera)


@router.get("/{camera_id}", response_model=CameraPublic, responses=error_responses(404))
def get_camera(camera_id: int, user: UserDep, session: SessionDep) -> CameraPublic:
    """One camera."""
    return CameraPublic.model_validate(camera_store.get_camera_by_id(session, camera_id=camera_id))


@router.patch("/{camera_id}", response_model=CameraPublic, responses=error_responses(404, 409, 422))
def update_camera(camera_id: int, body: CameraUpdate, admin: AdminDep, session: SessionDep) -> CameraPublic:
    """Change the fields given."""
    camera = camera_store.update_camera(session, camera_id=camera_id, changes=body.model_dump(exclude_unset=True))
    session.commit()
    return CameraPublic.model_validate(camera)


@router.delete("/{camera_id}", status_code=204, responses=error_responses(404))
def delete_camera(camera_id: int, admin: AdminDep, session: SessionDep) -> Response:
    """Remove a camera and its reference records (the image files stay for past evidence)."""
    camera_store.delete_camera(session, camera_id=camera_id)
    session.commit()
    return Response(status_code=204)


@router.get("/{camera_id}/references", response_model=ReferencesPublic, responses=error_responses(404))
def list_references(
    camera_id: int, user: UserDep, session: SessionDep, include_replaced: bool = False
) -> ReferencesPublic:
    """The camera's current reference images (and replaced ones with ``include_replaced``), newest first per place."""
    camera = camera_store.get_camera_by_id(session, camera_id=camera_id)
    items = references.list_references(session, camera_key=camera.key, include_replaced=include_replaced)
    return ReferencesPublic(items=[ReferencePublic.model_validate(item) for item in items], count=len(items))


@router.post(
    "/{camera_id}/references",
    response_model=ReferencePublic,
    status_code=201,
    responses=error_responses(404, 409, 413, 415, 422),
)
def upload_reference(
    camera_id: int,
    file: Annotated[UploadFile, File(description="JPEG, PNG, WebP, BMP or TIFF image (stored as JPEG).")],
    admin: AdminDep,
    session: SessionDep,
    context: ContextDep,
    preset: Annotated[str | None, Form(max_length=64, description="PTZ preset (PTZ cameras only).")] = None,
    taken_at: Annotated[AwareDatetime | None, Form(description="When it was taken (default: now).")] = None,
    lat: Annotated[Latitude | None, Form(description="Where (patrol cameras: required).")] = None,
    lon: Annotated[Longitude | None, Form()] = None,
    heading_deg: Annotated[Heading | None, Form(description="Looking along (patrol cameras: required).")] = None,
    replace: Annotated[bool, Form(description="Replace the place's current reference instead of refusing.")] = False,
) -> ReferencePublic:
    """Upload a reference image of the camera's view, a preset, or a patrol position (admin)."""
    camera = camera_store.get_camera_by_id(session, camera_id=camera_id)
    found = media.check_format(file.file, declared_type=file.content_type, field="file", allowed=("image",))
    data = media.read_limited(file.file, max_bytes=context.settings.max_image_bytes, field="file")
    image = media.decode_image(data, field="file")
    try:
        references.check_picture(image, name=f"the {found.name} image")
    except Invalid as error:
        raise Invalid(str(error).removeprefix(f"{error.field}: "), field="file") from error
    position = _position(lat, lon, heading_deg)
    new = references.capture_reference(
        session,
        store=context.references,
        camera_key=camera.key,
        image=image,
        preset=preset,
        taken_at=taken_at or context.clock(),
        position=position,
        replace=replace,
        now=context.clock(),
    )
    session.commit()
    return ReferencePublic.model_validate(new.reference)


@router.get(
    "/{camera_id}/references/{reference_id}/image",
    response_class=FileResponse,
    responses=error_responses(404),
)
def reference_image(
    camera_id: int, reference_id: int, user: UserDep, session: SessionDep, context: ContextDep
) -> FileResponse:
    """The reference image file."""
    reference = references.get_reference(session, camera_id=camera_id, reference_id=reference_id)
    try:
        path = context.references.resolve(reference.image_path)
    except (EvidenceNotFound, UnsafeEvidencePath) as error:
        raise NotFound(f"the image of reference {reference_id} is missing") from error
    return FileResponse(path, headers={"X-Content-Type-Options": "nosniff"})


def _position(lat: float | None, lon: float | None, heading_deg: float | None) -> GeoPoint | None:
    if lat is None and lon is None:
        if heading_deg is not None:
            raise Invalid("a heading needs lat and lon", field="heading_deg")
        return None
    if lat is None or lon is None:
        raise Invalid("give both lat and lon", field="lat" if lat is None else "lon")
    return GeoPoint(lat=lat, lon=lon, heading_deg=heading_deg)
