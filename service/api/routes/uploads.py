"""Uploads of images and clips to scan, queued as scan jobs (the scan worker does the scanning)."""

from __future__ import annotations

from pathlib import PurePath
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from pydantic import AwareDatetime

from service.api import media
from service.api.crud import scans as scan_store
from service.api.deps import ContextDep, SessionDep, UserDep
from service.api.schemas.common import error_responses
from service.api.schemas.scans import ScanJobPublic, ScanJobsPublic, ScanSourcePublic, UploadPublic
from service.cameras.queries import find_camera
from service.db.models import ScanJob, ScanSource
from service.errors import NotFound

router = APIRouter(prefix="/api", tags=["uploads"], responses=error_responses(401, 403))


@router.post("/uploads", response_model=UploadPublic, status_code=201, responses=error_responses(404, 413, 415, 422))
def upload(
    file: Annotated[UploadFile, File(description="An image (JPEG, PNG, WebP, BMP, TIFF) or a clip (MP4, MOV, MKV …).")],
    user: UserDep,
    session: SessionDep,
    context: ContextDep,
    response: Response,
    camera: Annotated[str | None, Form(max_length=128, description="Key of the camera that took it.")] = None,
    taken_at: Annotated[AwareDatetime | None, Form(description="When it was taken (start of a clip).")] = None,
) -> UploadPublic:
    """Store an image or clip under a generated name and queue it for scanning.

    The same file with the same camera and time is queued once: a repeat answers 200 with ``duplicate: true``.
    """
    if camera is not None and find_camera(session, key=camera) is None:
        raise NotFound(f"no camera {camera!r}", field="camera")
    found = media.check_format(file.file, declared_type=file.content_type, field="file")
    settings = context.settings
    limit = settings.max_image_bytes if found.kind == "image" else settings.max_clip_bytes
    folder = context.uploads_dir / context.clock().strftime("%Y-%m-%d")
    stored = media.store(file.file, folder=folder, media=found, max_bytes=limit, field="file")
    options: dict[str, Any] = {
        "source": "upload",
        "media": found.kind,
        "format": found.name,
        "camera": camera,
        "taken_at": taken_at.isoformat() if taken_at else None,
    }
    try:
        about = _check_content(stored) | {
            "original_name": PurePath(file.filename or "").name[:255],
            "uploaded_by": user.username,
            "size": stored.size,
            "sha256": stored.sha256,
        }
        job_id, duplicate = _queue(session, stored=stored, options=options, about=about)
    except BaseException:
        stored.path.unlink(missing_ok=True)
        raise
    if duplicate:
        stored.path.unlink(missing_ok=True)
        response.status_code = 200
    job = _job_public(*scan_store.get_job(session, job_id=job_id))
    return UploadPublic(job=job, duplicate=duplicate, size=stored.size, sha256=stored.sha256)


@router.get("/scan-jobs", response_model=ScanJobsPublic)
def list_scan_jobs(
    user: UserDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ScanJobsPublic:
    """Scan jobs, newest first."""
    jobs, count = scan_store.list_jobs(session, limit=limit, offset=offset)
    return ScanJobsPublic(items=[_job_public(job, sources) for job, sources in jobs], count=count)


@router.get("/scan-jobs/{job_id}", response_model=ScanJobPublic, responses=error_responses(404))
def get_scan_job(job_id: int, user: UserDep, session: SessionDep) -> ScanJobPublic:
    """One scan job and the state of its sources."""
    return _job_public(*scan_store.get_job(session, job_id=job_id))


def _queue(
    session: SessionDep, *, stored: media.StoredFile, options: dict[str, Any], about: dict[str, Any]
) -> tuple[int, bool]:
    """The job of this upload and whether it existed already; ``options`` make the key, ``about`` only describes."""
    key = scan_store.upload_job_key(sha256=stored.sha256, options=options)
    existing = scan_store.find_job(session, key=key)
    if existing is not None:
        return existing.id, True
    job = scan_store.queue_upload(session, key=key, path=str(stored.path.resolve()), options=options | about)
    session.commit()
    return job.id, False


def _check_content(stored: media.StoredFile) -> dict[str, Any]:
    if stored.format.kind == "image":
        image = media.decode_image(stored.path.read_bytes(), field="file")
        return {"width": int(image.shape[1]), "height": int(image.shape[0])}
    return {"duration_s": media.probe_video(stored.path, field="file")}


def _job_public(job: ScanJob, sources: list[ScanSource]) -> ScanJobPublic:
    return ScanJobPublic(
        id=job.id,
        key=job.key,
        options=job.options,
        created_at=job.created_at,
        finished_at=job.finished_at,
        sources=[ScanSourcePublic.model_validate(source) for source in sources],
    )
