"""Uploads to scan and the scan jobs they become."""

from __future__ import annotations

from typing import Any

from service.api.schemas.common import PublicModel, UTCTime


class ScanSourcePublic(PublicModel):
    """One file of a scan job and how far scanning it has got."""

    id: int
    path: str
    state: str
    error: str | None
    frames: int
    video_seconds: float
    hits: int
    started_at: UTCTime | None
    finished_at: UTCTime | None


class ScanJobPublic(PublicModel):
    """A scan job: its options (for uploads: media kind, camera, original name, who uploaded) and sources."""

    id: int
    key: str
    options: dict[str, Any]
    created_at: UTCTime
    finished_at: UTCTime | None
    sources: list[ScanSourcePublic]


class ScanJobsPublic(PublicModel):
    """A page of scan jobs."""

    items: list[ScanJobPublic]
    count: int


class UploadPublic(PublicModel):
    """The answer to an upload: the job it was queued as; ``duplicate`` when the same file was already queued."""

    job: ScanJobPublic
    duplicate: bool
    size: int
    sha256: str
