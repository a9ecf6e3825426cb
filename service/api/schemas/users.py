"""Logins, users and API tokens."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from service.api.schemas.common import InputModel, PublicModel, UTCTime

Role = Literal["reviewer", "admin"]


class LoginRequest(InputModel):
    """Name and password."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class SessionPublic(PublicModel):
    """Who is logged in; ``csrf_token`` must accompany state-changing cookie requests (``X-CSRF-Token``)."""

    user_id: int
    username: str
    role: str
    via: str
    csrf_token: str | None


class UserCreate(InputModel):
    """A new user."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=8, max_length=1024)
    role: Role = "reviewer"


class UserUpdate(InputModel):
    """Changes to a user; fields left out stay."""

    password: str | None = Field(default=None, min_length=8, max_length=1024)
    active: bool | None = None


class UserPublic(PublicModel):
    """A user, without the password hash."""

    id: int
    username: str
    role: str
    active: bool
    created_at: UTCTime


class UsersPublic(PublicModel):
    """All users."""

    items: list[UserPublic]
    count: int


class TokenCreate(InputModel):
    """A new API token acting as ``username``."""

    name: str = Field(min_length=1, max_length=128)
    username: str = Field(min_length=1, max_length=64)


class TokenPublic(PublicModel):
    """An API token's record (the token itself is never shown again)."""

    id: int
    name: str
    username: str
    created_at: UTCTime
    revoked_at: UTCTime | None


class TokenCreated(TokenPublic):
    """A token just made: ``token`` is shown this once."""

    token: str


class TokensPublic(PublicModel):
    """All API tokens."""

    items: list[TokenPublic]
    count: int
