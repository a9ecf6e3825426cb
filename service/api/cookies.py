"""Setting and clearing the login cookie (shared by the JSON login and the review pages' login form)."""

from __future__ import annotations

from fastapi import Response

from service.api.context import AppContext
from service.api.deps import CSRF_COOKIE, SESSION_COOKIE
from service.db.models import User


def start_session(response: Response, *, context: AppContext, user: User) -> str:
    """Set a fresh login cookie for ``user`` on ``response``; returns the session's CSRF token.

    The login cookie is HttpOnly and SameSite=Lax; the CSRF token also goes into a readable cookie so scripts on
    our pages can echo it in ``X-CSRF-Token`` (it is useless to another site, which cannot read our cookies).
    """
    settings = context.settings
    cookie, claims = context.signer.issue(user_id=user.id, password_hash=user.password_hash, now=context.clock())
    csrf_token = context.signer.csrf_token(claims)
    for name, value, http_only in ((SESSION_COOKIE, cookie, True), (CSRF_COOKIE, csrf_token, False)):
        response.set_cookie(
            name,
            value,
            max_age=settings.session_max_age_s,
            secure=settings.secure_cookies,
            httponly=http_only,
            samesite="lax",
            path="/",
        )
    return csrf_token


def end_session(response: Response, *, context: AppContext) -> None:
    """Clear the login and CSRF cookies."""
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", secure=context.settings.secure_cookies, samesite="lax")
