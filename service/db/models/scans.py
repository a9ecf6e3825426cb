"""Scan jobs over archives and the state of each source in them, so a killed scan resumes where it stopped."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, utcnow

SOURCE_STATES = ("pending", "running", "done", "failed")


class ScanJob(Base):
    """One scan command or upload: its inputs and options."""

    __tablename__ = "scan_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # hash of inputs + options: same command, same job
    options: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class ScanSource(Base):
    """One file of a scan job; ``done`` sources are skipped when the job resumes."""

    __tablename__ = "scan_sources"
    __table_args__ = (UniqueConstraint("job_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("scan_jobs.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(1024))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    error: Mapped[str | None] = mapped_column(String(2048))
    frames: Mapped[int] = mapped_column(default=0)
    video_seconds: Mapped[float] = mapped_column(default=0.0)
    hits: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
