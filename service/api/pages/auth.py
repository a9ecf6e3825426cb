"""The login form and logging out, on top of the API's login cookie (:mod:`service.api.cookies`).

The login form is protected against login CSRF (another site logging a browser in under the attacker's name): the
form page sets a random pre-login cookie and embeds the token the server's signer derives from it, the same
derivation that gives a logged-in session its CSRF token; the POST must bring both.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from service.api.context import AppContext
from service.api.cookies import end_session, start_session
from service.api.crud import users as user_store
from service.api.deps import ContextDep, SessionDep, UserDep
from service.api.pages.rendering import LOGIN_PATH, PageRoute, redirect, render
from service.api.security import SessionClaims

router = APIRouter(route_class=PageRoute)

LOGIN_COOKIE = "xiuhua_login"
LOGIN_COOKIE_MAX_AGE_S = 3600
DEFAULT_NEXT = "/queue"


def _login_token(context: AppContext, nonce: str) -> str:
    claims = SessionClaims(user_id=0, session_id=f"login:{nonce}", expires_at=0, password_tag="")
    return context.signer.csrf_token(claims)


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else the queue (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return DEFAULT_NEXT
    return target


def _form(request: Request, context: AppContext, *, next_url: str, message: str = "", status: int = 200) -> Response:
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)
    values = {"csrf_token": _login_token(context, nonce), "next": next_url, "message": message, "user": None}
    response = render(request, "login.html", values, status_code=status)
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=LOGIN_COOKIE_MAX_AGE_S,
        httponly=True,
        samesite="lax",
        secure=context.settings.secure_cookies,
        path=LOGIN_PATH,
    )
    return response


@router.get(LOGIN_PATH)
def login_form(
    request: Request, context: ContextDep, next_path: Annotated[str | None, Query(alias="next", max_length=2048)] = None
) -> Response:
    """The login form (no login needed)."""
    return _form(request, context, next_url=safe_next(next_path))


@router.post(LOGIN_PATH)
def login(
    request: Request,
    context: ContextDep,
    session: SessionDep,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=1024)],
    csrf_token: Annotated[str, Form(max_length=256)] = "",
    next_path: Annotated[str, Form(alias="next", max_length=2048)] = DEFAULT_NEXT,
) -> Response:
    """Check the name and password, set the login cookie and go on to ``next`` (the queue by default)."""
    next_url = safe_next(next_path)
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not secrets.compare_digest(csrf_token.encode(), _login_token(context, nonce).encode()):
        message = "The login form expired or came from another site; please log in again. 登录表单已过期，请重新登录。"
        return _form(request, context, next_url=next_url, message=message, status=403)
    throttle = context.login_throttle
    keys = throttle.keys(username, request.client.host if request.client else None)
    wait = throttle.retry_after(keys, now=context.clock())
    if wait is not None:
        message = f"Too many failed logins; try again in {wait:.0f} s. 登录失败次数过多，请稍后再试。"
        response = _form(request, context, next_url=next_url, message=message, status=429)
        response.headers["Retry-After"] = str(max(1, round(wait)))
        return response
    user = user_store.authenticate(session, username=username, password=password)
    if user is None:
        throttle.failed(keys, now=context.clock())
        message = "Wrong username or password. 用户名或密码错误。"
        return _form(request, context, next_url=next_url, message=message, status=401)
    throttle.succeeded(keys)
    response = redirect(next_url)
    start_session(response, context=context, user=user)
    response.delete_cookie(LOGIN_COOKIE, path=LOGIN_PATH)
    return response


@router.post("/logout")
def logout(user: UserDep, context: ContextDep) -> Response:
    """End the login (the form carries the CSRF token) and show the login form."""
    response = redirect(LOGIN_PATH)
    end_session(response, context=context)
    return response
