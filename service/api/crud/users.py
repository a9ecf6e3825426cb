"""Users and API tokens."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.api.security import hash_password, new_api_token, token_digest, verify_password
from service.db.models import ApiToken, User
from service.db.models.users import ROLES
from service.errors import Conflict, Invalid, NotFound

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


def create_user(session: Session, *, username: str, password: str, role: str) -> User:
    """Add a user with an argon2 hash of ``password``.

    Raises:
        Invalid: Bad name, unknown role, or a password that is too short.
        Conflict: The name is taken.
    """
    if not USERNAME_PATTERN.match(username):
        raise Invalid(
            f"{username!r} must be 1-64 letters, digits or _.@- and start with a letter or digit", field="username"
        )
    if role not in ROLES:
        raise Invalid(f"{role!r} is not one of {', '.join(ROLES)}", field="role")
    try:
        password_hash = hash_password(password)
    except ValueError as error:
        raise Invalid(str(error), field="password") from error
    if find_user(session, username=username) is not None:
        raise Conflict(f"user {username!r} already exists")
    user = User(username=username, password_hash=password_hash, role=role)
    session.add(user)
    try:
        session.flush()
    except IntegrityError as error:  # lost a race with another insert of the same name
        raise Conflict(f"user {username!r} already exists") from error
    return user


def get_user(session: Session, *, user_id: int) -> User | None:
    """The user with ``user_id``, or ``None``."""
    return session.get(User, user_id)


def find_user(session: Session, *, username: str) -> User | None:
    """The user called ``username``, or ``None``."""
    return session.scalars(select(User).where(User.username == username)).one_or_none()


def require_user(session: Session, *, username: str) -> User:
    """The user called ``username``.

    Raises:
        NotFound: There is none.
    """
    user = find_user(session, username=username)
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def list_users(session: Session) -> list[User]:
    """All users by name."""
    return list(session.scalars(select(User).order_by(User.username)))


def authenticate(session: Session, *, username: str, password: str) -> User | None:
    """The active user whose name and password match, or ``None`` (same cost whether or not the name exists)."""
    user = find_user(session, username=username)
    if not verify_password(user.password_hash if user else None, password):
        return None
    return user if user is not None and user.active else None


def set_password(session: Session, *, username: str, password: str) -> User:
    """Replace a user's password (ends their login sessions).

    Raises:
        NotFound: No such user.
        Invalid: The password is too short.
    """
    user = require_user(session, username=username)
    try:
        user.password_hash = hash_password(password)
    except ValueError as error:
        raise Invalid(str(error), field="password") from error
    session.flush()
    return user


def set_active(session: Session, *, username: str, active: bool) -> User:
    """Enable or disable a user; a disabled user's logins and tokens stop working."""
    user = require_user(session, username=username)
    user.active = active
    session.flush()
    return user


def create_token(session: Session, *, name: str, username: str) -> tuple[ApiToken, str]:
    """A new API token acting as ``username``; returns the row and the token itself (not stored).

    Raises:
        Invalid: An empty name.
        NotFound: No such user.
    """
    if not name.strip() or len(name) > 128:
        raise Invalid("must be 1-128 characters", field="name")
    user = require_user(session, username=username)
    token = new_api_token()
    row = ApiToken(name=name, token_sha256=token_digest(token), user_id=user.id)
    session.add(row)
    session.flush()
    return row, token


def user_for_token(session: Session, *, token: str) -> tuple[User, ApiToken] | None:
    """The active user and live token row for a bearer token, or ``None``."""
    row = session.scalars(select(ApiToken).where(ApiToken.token_sha256 == token_digest(token))).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    user = session.get(User, row.user_id)
    return (user, row) if user is not None and user.active else None


def list_tokens(session: Session) -> list[tuple[ApiToken, str]]:
    """All tokens with their user's name, oldest first."""
    rows = session.execute(
        select(ApiToken, User.username).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)
    )
    return [(token, username) for token, username in rows]


def revoke_token(session: Session, *, token_id: int, now: datetime) -> ApiToken:
    """Revoke a token (kept for the record).

    Raises:
        NotFound: No such token.
    """
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no API token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = now
        session.flush()
    return row
