"""Data access for scan jobs and the state of their sources (``scan_jobs``, ``scan_sources``).

Keyword-only functions taking the session; they flush but never commit (the caller's unit of work commits once).
A source goes ``pending`` → ``running`` → ``done`` or ``failed``; a resumed job runs every source that is not
``done`` (a ``running`` one was cut off by a kill, a ``failed`` one may have been fixed since).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.db import utcnow
from service.db.models.scans import ScanJob, ScanSource
from service.errors import NotFound

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"
_ERROR_MAX = 2048


def open_job(session: Session, *, key: str, options: dict[str, Any]) -> tuple[ScanJob, bool]:
    """The job with this key, created if new (safe when two scans start the same command at once).

    Returns:
        The job, and whether it already existed (a resumed scan).
    """
    job = session.scalars(select(ScanJob).where(ScanJob.key == key)).one_or_none()
    if job is not None:
        return job, True
    try:
        with session.begin_nested():
            job = ScanJob(key=key, options=options)
            session.add(job)
    except IntegrityError:
        job = session.scalars(select(ScanJob).where(ScanJob.key == key)).one()
        return job, True
    return job, False


def add_sources(session: Session, *, job_id: int, paths: Sequence[str]) -> int:
    """Adds the paths the job does not have yet as ``pending``; returns how many were added."""
    known = set(session.scalars(select(ScanSource.path).where(ScanSource.job_id == job_id)))
    new = [path for path in dict.fromkeys(paths) if path not in known]
    session.add_all(ScanSource(job_id=job_id, path=path, state=PENDING) for path in new)
    session.flush()
    return len(new)


def job_sources(session: Session, *, job_id: int) -> list[ScanSource]:
    """Every source of the job, by path."""
    return list(session.scalars(select(ScanSource).where(ScanSource.job_id == job_id).order_by(ScanSource.path)))


def start_source(session: Session, *, job_id: int, path: str) -> ScanSource:
    """Marks a source ``running`` (clearing an earlier attempt's counts and error).

    Raises:
        NotFound: The job has no such source.
    """
    source = _source(session, job_id, path)
    source.state, source.error = RUNNING, None
    source.frames, source.video_seconds, source.hits = 0, 0.0, 0
    source.started_at, source.finished_at = utcnow(), None
    session.flush()
    return source


def finish_source(
    session: Session,
    *,
    job_id: int,
    path: str,
    frames: int,
    video_seconds: float,
    hits: int,
    error: str | None = None,
) -> ScanSource:
    """Marks a source ``done``, or ``failed`` with ``error``; call only after its sightings are committed.

    Raises:
        NotFound: The job has no such source.
    """
    source = _source(session, job_id, path)
    source.state = DONE if error is None else FAILED
    source.error = None if error is None else error[:_ERROR_MAX]
    source.frames, source.video_seconds, source.hits = frames, video_seconds, hits
    source.finished_at = utcnow()
    session.flush()
    return source


def finish_job(session: Session, *, job_id: int) -> bool:
    """Sets the job's ``finished_at`` when every source is done; returns whether it is finished."""
    open_sources = session.scalar(
        select(func.count()).select_from(ScanSource).where(ScanSource.job_id == job_id, ScanSource.state != DONE)
    )
    job = session.get(ScanJob, job_id)
    if job is None:
        raise NotFound(f"no scan job {job_id}", field="job")
    job.finished_at = utcnow() if not open_sources else None
    session.flush()
    return not open_sources


def _source(session: Session, job_id: int, path: str) -> ScanSource:
    source = session.scalars(
        select(ScanSource).where(ScanSource.job_id == job_id, ScanSource.path == path)
    ).one_or_none()
    if source is None:
        raise NotFound(f"scan job {job_id} has no source {path!r}", field="path")
    return source
