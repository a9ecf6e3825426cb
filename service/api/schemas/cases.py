"""Cases on the city platform, their stages, their posting state, and the platform's callback."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from service.api.schemas.common import InputModel, PublicModel, UTCTime


class MessagePublic(PublicModel):
    """One outbox message of a case."""

    id: int
    case_id: int
    target: str
    idempotency_key: str
    kind: str
    state: str
    attempts: int
    next_attempt_at: UTCTime
    last_error: str | None
    sent_at: UTCTime | None
    created_at: UTCTime


class MessagesPublic(PublicModel):
    """A page of outbox messages."""

    items: list[MessagePublic]
    count: int


class PostingPublic(PublicModel):
    """Where posting of a case stands: ``none``, ``pending``, ``sent`` or ``dead``."""

    state: str
    messages: list[MessagePublic]


class CaseEventPublic(PublicModel):
    """A stage the case reached."""

    id: int
    stage: str
    stage_name: str
    at: UTCTime
    payload: dict[str, Any] | None


class CasePublic(PublicModel):
    """A case with its stages and posting state."""

    id: int
    candidate_id: int
    event_code: str
    violation_type: str
    description: str
    address: str | None
    district: str | None
    street: str | None
    grid: str | None
    lat: float
    lon: float
    stage: str
    stage_name: str
    platform_case_id: str | None
    confirmed_by_id: int | None
    created_at: UTCTime
    updated_at: UTCTime
    posting: PostingPublic
    events: list[CaseEventPublic]


class CasesPublic(PublicModel):
    """A page of cases, newest first, and how many match."""

    items: list[CasePublic]
    count: int


class CallbackIn(InputModel):
    """The platform reports that a case reached a stage; other fields it sends are kept with the event."""

    model_config = ConfigDict(extra="allow")

    stage: str = Field(min_length=1, max_length=32, description="Stage key (dispatched) or name (派遣).")
    case_id: int | None = Field(default=None, description="Our case id (the external_id we posted).")
    platform_case_id: str | None = Field(default=None, max_length=128, description="The platform's case number.")
    at: UTCTime | None = Field(default=None, description="When the stage was reached (with a time zone).")


class CallbackPublic(PublicModel):
    """What the callback did; ``applied`` is false for a repeat of a stage already recorded."""

    applied: bool
    case: CasePublic
    event: CaseEventPublic
