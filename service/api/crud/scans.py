"""Scan jobs made from uploads: one job per uploaded file, waiting for the scan worker."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.db.models import ScanJob, ScanSource
from service.errors import Conflict, NotFound


def upload_job_key(*, sha256: str, options: dict[str, Any]) -> str:
    """The job key of an upload: the same file with the same options is the same job."""
    canonical = json.dumps({"upload": sha256, **options}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def find_job(session: Session, *, key: str) -> ScanJob | None:
    """The job with ``key``, or ``None``."""
    return session.scalars(select(ScanJob).where(ScanJob.key == key)).one_or_none()


def queue_upload(session: Session, *, key: str, path: str, options: dict[str, Any]) -> ScanJob:
    """A new pending scan job with one source, the stored upload at ``path``.

    Raises:
        Conflict: The same upload is being queued by another request right now.
    """
    job = ScanJob(key=key, options=options)
    session.add(job)
    try:
        session.flush()
    except IntegrityError as error:
        raise Conflict("the same file is being queued by another upload right now; try again") from error
    session.add(ScanSource(job_id=job.id, path=path, state="pending"))
    session.flush()
    return job


def get_job(session: Session, *, job_id: int) -> tuple[ScanJob, list[ScanSource]]:
    """A job and its sources.

    Raises:
        NotFound: No such job.
    """
    job = session.get(ScanJob, job_id)
    if job is None:
        raise NotFound(f"no scan job {job_id}")
    sources = session.scalars(select(ScanSource).where(ScanSource.job_id == job_id).order_by(ScanSource.id))
    return job, list(sources)


def list_jobs(
    session: Session, *, limit: int = 100, offset: int = 0
) -> tuple[list[tuple[ScanJob, list[ScanSource]]], int]:
    """A page of jobs, newest first, with their sources, and how many there are."""
    count = session.scalar(select(func.count()).select_from(ScanJob)) or 0
    jobs = list(session.scalars(select(ScanJob).order_by(ScanJob.id.desc()).limit(limit).offset(offset)))
    sources: dict[int, list[ScanSource]] = {job.id: [] for job in jobs}
    if jobs:
        query = select(ScanSource).where(ScanSource.job_id.in_(sources)).order_by(ScanSource.id)
        for source in session.scalars(query):
            sources[source.job_id].append(source)
    return [(job, sources[job.id]) for job in jobs], count
