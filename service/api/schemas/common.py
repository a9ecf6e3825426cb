"""Pieces shared by the schema families."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Heading = Annotated[float, Field(ge=0, lt=360)]


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("a time without a time zone")
    return value.astimezone(UTC)


# Every time the API shows is aware UTC (``...Z``), whatever zone it was given in.
UTCTime = Annotated[datetime, AfterValidator(_to_utc)]


class InputModel(BaseModel):
    """Base of request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class PublicModel(BaseModel):
    """Base of response bodies, readable from ORM rows."""

    model_config = ConfigDict(from_attributes=True)


class ErrorField(BaseModel):
    """One field at fault."""

    field: str
    location: str
    message: str


class ErrorPublic(BaseModel):
    """Every error answer."""

    detail: str
    errors: list[ErrorField] = []
    error_id: str | None = None


class Message(BaseModel):
    """A plain acknowledgement."""

    detail: str


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting error codes with :class:`ErrorPublic`."""
    return {code: {"model": ErrorPublic} for code in codes}
