"""Cases on the city platform and their stages 受理 → 立案 → 派遣 → 处置 → 核查 → 结案 (or 作废)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, utcnow

STAGES = ("accepted", "registered", "dispatched", "handled", "verified", "closed", "void")
STAGE_NAMES_ZH = {
    "accepted": "受理",
    "registered": "立案",
    "dispatched": "派遣",
    "handled": "处置",
    "verified": "核查",
    "closed": "结案",
    "void": "作废",
}


class Case(Base):
    """A confirmed violation handed to the city platform."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="RESTRICT"), unique=True)
    event_code: Mapped[str] = mapped_column(String(16))
    violation_type: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(2048), default="")
    address: Mapped[str | None] = mapped_column(String(512))
    district: Mapped[str | None] = mapped_column(String(128))
    street: Mapped[str | None] = mapped_column(String(128))
    grid: Mapped[str | None] = mapped_column(String(64))
    lat: Mapped[float]
    lon: Mapped[float]
    stage: Mapped[str] = mapped_column(String(16), default="accepted")
    platform_case_id: Mapped[str | None] = mapped_column(String(128))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CaseEvent(Base):
    """A stage change of a case, as reported by the platform's callback (or made here)."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    payload: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
