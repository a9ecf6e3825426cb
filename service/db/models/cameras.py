"""Cameras (fixed, PTZ, patrol vehicle) and the reference images image comparison starts from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, utcnow

CAMERA_KINDS = ("fixed", "ptz", "patrol")


class Camera(Base):
    """A camera the department runs.

    ``calibration`` holds the ground-plane calibration of a fixed camera (image↔map point pairs), ``settings``
    per-camera options (ignore masks, sampling). ``key`` is the department's own name for it (e.g. ``cam-012``).
    """

    __tablename__ = "cameras"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(256), default="")
    kind: Mapped[str] = mapped_column(String(16))
    stream_url: Mapped[str | None] = mapped_column(String(1024))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    heading_deg: Mapped[float | None]
    calibration: Mapped[dict[str, Any] | None]
    settings: Mapped[dict[str, Any] | None]
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Reference(Base):
    """A reference image of one place: a camera's view, a PTZ preset, or a position on a patrol route.

    Replacing a reference marks the old one ``replaced_at`` instead of deleting it: past comparisons keep their
    evidence.
    """

    __tablename__ = "references"
    __table_args__ = (UniqueConstraint("camera_id", "preset", "taken_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), index=True)
    preset: Mapped[str | None] = mapped_column(String(64))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    heading_deg: Mapped[float | None]
    taken_at: Mapped[datetime]
    image_path: Mapped[str] = mapped_column(String(1024))
    sha256: Mapped[str] = mapped_column(String(64))
    replaced_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
