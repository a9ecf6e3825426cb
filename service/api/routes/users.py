"""Users and API tokens (admin only)."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.crud import users as user_store
from service.api.deps import AdminDep, ContextDep, SessionDep
from service.api.schemas.common import error_responses
from service.api.schemas.users import (
    TokenCreate,
    TokenCreated,
    TokenPublic,
    TokensPublic,
    UserCreate,
    UserPublic,
    UsersPublic,
    UserUpdate,
)
from service.db.models import ApiToken

router = APIRouter(prefix="/api", tags=["users"], responses=error_responses(401, 403))


@router.get("/users", response_model=UsersPublic)
def list_users(admin: AdminDep, session: SessionDep) -> UsersPublic:
    """All users."""
    users = user_store.list_users(session)
    return UsersPublic(items=[UserPublic.model_validate(user) for user in users], count=len(users))


@router.post("/users", response_model=UserPublic, status_code=201, responses=error_responses(409, 422))
def create_user(body: UserCreate, admin: AdminDep, session: SessionDep) -> UserPublic:
    """Add a user."""
    user = user_store.create_user(session, username=body.username, password=body.password, role=body.role)
    session.commit()
    return UserPublic.model_validate(user)


@router.patch("/users/{username}", response_model=UserPublic, responses=error_responses(404, 422))
def update_user(username: str, body: UserUpdate, admin: AdminDep, session: SessionDep) -> UserPublic:
    """Set a new password or enable/disable a user."""
    user = user_store.require_user(session, username=username)
    if body.password is not None:
        user = user_store.set_password(session, username=username, password=body.password)
    if body.active is not None:
        user = user_store.set_active(session, username=username, active=body.active)
    session.commit()
    return UserPublic.model_validate(user)


@router.get("/tokens", response_model=TokensPublic)
def list_tokens(admin: AdminDep, session: SessionDep) -> TokensPublic:
    """All API tokens (never the tokens themselves)."""
    rows = user_store.list_tokens(session)
    items = [_token_public(token, username) for token, username in rows]
    return TokensPublic(items=items, count=len(items))


@router.post("/tokens", response_model=TokenCreated, status_code=201, responses=error_responses(404, 422))
def create_token(body: TokenCreate, admin: AdminDep, session: SessionDep) -> TokenCreated:
    """Make an API token acting as a user; the answer is the only time the token is shown."""
    row, token = user_store.create_token(session, name=body.name, username=body.username)
    session.commit()
    return TokenCreated(**_token_public(row, body.username).model_dump(), token=token)


@router.delete("/tokens/{token_id}", response_model=TokenPublic, responses=error_responses(404))
def revoke_token(token_id: int, admin: AdminDep, session: SessionDep, context: ContextDep) -> TokenPublic:
    """Revoke an API token; it stops working at once."""
    row = user_store.revoke_token(session, token_id=token_id, now=context.clock())
    session.commit()
    user = user_store.get_user(session, user_id=row.user_id)
    return _token_public(row, user.username if user else "")


def _token_public(row: ApiToken, username: str) -> TokenPublic:
    return TokenPublic(
        id=row.id, name=row.name, username=username, created_at=row.created_at, revoked_at=row.revoked_at
    )
