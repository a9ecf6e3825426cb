"""The posting outbox: a row written in the same transaction as the confirmation, sent exactly once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, utcnow

OUTBOX_STATES = ("pending", "sent", "dead")


class OutboxMessage(Base):
    """One message to one target (``http`` or ``mqtt``); ``idempotency_key`` lets the receiver drop repeats."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("idempotency_key", "target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    target: Mapped[str] = mapped_column(String(16), default="http")
    idempotency_key: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(2048))
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
