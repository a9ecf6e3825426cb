"""Logging in and out with a cookie, and who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from service.api.cookies import end_session, start_session
from service.api.crud import users as user_store
from service.api.deps import ContextDep, SessionDep, UserDep
from service.api.errors import NotAuthenticated, TooManyRequests
from service.api.schemas.common import error_responses
from service.api.schemas.users import LoginRequest, SessionPublic

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/login", response_model=SessionPublic, responses=error_responses(401, 422, 429))
def login(
    body: LoginRequest, request: Request, response: Response, context: ContextDep, session: SessionDep
) -> SessionPublic:
    """Check name and password and set the login cookie. Too many failures lock the name for a while (429)."""
    throttle = context.login_throttle
    keys = throttle.keys(body.username, request.client.host if request.client else None)
    wait = throttle.retry_after(keys, now=context.clock())
    if wait is not None:
        raise TooManyRequests(f"too many failed logins; try again in {wait:.0f} s", retry_after_s=wait)
    user = user_store.authenticate(session, username=body.username, password=body.password)
    if user is None:
        throttle.failed(keys, now=context.clock())
        raise NotAuthenticated("wrong username or password")
    throttle.succeeded(keys)
    csrf_token = start_session(response, context=context, user=user)
    return SessionPublic(user_id=user.id, username=user.username, role=user.role, via="session", csrf_token=csrf_token)


@router.post("/logout", status_code=204, responses=error_responses(401, 403))
def logout(principal: UserDep, context: ContextDep) -> Response:
    """Clear the login cookie."""
    response = Response(status_code=204)
    end_session(response, context=context)
    return response


@router.get("/me", response_model=SessionPublic, responses=error_responses(401))
def me(principal: UserDep, context: ContextDep) -> SessionPublic:
    """The caller, and the CSRF token of their login session (``null`` for token callers)."""
    csrf_token = context.signer.csrf_token(principal.session) if principal.session else None
    return SessionPublic(
        user_id=principal.user_id,
        username=principal.username,
        role=principal.role,
        via=principal.via,
        csrf_token=csrf_token,
    )
