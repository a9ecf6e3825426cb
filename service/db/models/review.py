"""The review audit log: every action a reviewer takes, with who and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, utcnow

ACTIONS = ("claim", "release", "confirm", "reject", "relabel", "merge", "undo")
REJECT_REASONS = ("false_detection", "permitted", "duplicate", "other")


class ReviewAction(Base):
    """One row per action; ``undone_by_id`` points at the undo that reversed it."""

    __tablename__ = "review_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(1024))
    details: Mapped[dict[str, Any] | None]  # before/after values, merge target, relabel from/to
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("review_actions.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
