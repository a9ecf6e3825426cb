"""Sightings (one object tracked across frames), candidates (one real violation) and their evidence files."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, utcnow

# Candidate.status values. "open" waits for review; the review issue adds the rest of the life cycle.
CANDIDATE_STATUSES = ("open", "confirmed", "rejected", "merged", "closed")


class Candidate(Base):
    """One suspected violation at one place: what reviewers see once, however often it was sighted."""

    __tablename__ = "candidates"
    __table_args__ = (
        Index("ix_candidates_open_type", "status", "violation_type"),
        # De-duplication's bounding-box search: equality on type and status, a range on lat, lon read from the index.
        Index("ix_candidates_type_status_lat_lon", "violation_type", "status", "lat", "lon"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    violation_type: Mapped[str] = mapped_column(String(32))
    event_code: Mapped[str] = mapped_column(String(16))
    class_name: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    lat: Mapped[float]
    lon: Mapped[float]
    accuracy_m: Mapped[float | None]
    camera_id: Mapped[int | None] = mapped_column(ForeignKey("cameras.id", ondelete="SET NULL"))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    sightings_count: Mapped[int] = mapped_column(default=0)
    score: Mapped[float] = mapped_column(default=0.0)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("candidates.id", ondelete="SET NULL"))
    # Review queue lease: who holds the item and until when (the service issue).
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    claim_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Sighting(Base):
    """One object seen across frames of one source (a track), or one external detection.

    ``status`` is ``candidate`` when rules let it through (then ``candidate_id`` is set) or ``dropped`` with
    ``drop_reason``. ``(source, track_key)`` is unique so a resumed scan does not store a track twice.
    """

    __tablename__ = "sightings"
    __table_args__ = (
        UniqueConstraint("source", "track_key"),
        # "Seen at the same time by the same source?" when de-duplication checks a candidate's sightings.
        Index("ix_sightings_candidate_source_time", "candidate_id", "source", "first_seen"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(1024))
    track_key: Mapped[str] = mapped_column(String(128))
    camera_id: Mapped[int | None] = mapped_column(ForeignKey("cameras.id", ondelete="SET NULL"), index=True)
    class_name: Mapped[str] = mapped_column(String(64))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    dwell_s: Mapped[float] = mapped_column(default=0.0)
    frames_seen: Mapped[int] = mapped_column(default=1)
    score: Mapped[float]
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    accuracy_m: Mapped[float | None]
    box: Mapped[list[Any] | None]
    status: Mapped[str] = mapped_column(String(16))
    drop_reason: Mapped[str | None] = mapped_column(String(256))
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("candidates.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Evidence(Base):
    """An evidence file (annotated frame, crop, reference | current) under the data folder, with its SHA-256."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"), index=True)
    sighting_id: Mapped[int | None] = mapped_column(ForeignKey("sightings.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))  # frame | crop | comparison
    path: Mapped[str] = mapped_column(String(1024))  # relative to the evidence folder
    sha256: Mapped[str] = mapped_column(String(64))
    taken_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
