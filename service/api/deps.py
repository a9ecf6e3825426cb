"""FastAPI dependencies: the database session, who is calling, and what they may do.

A caller is a person with a login cookie or a machine with ``Authorization: Bearer <token>``. Cookie requests that
change state must carry the session's CSRF token (header ``X-CSRF-Token`` or form field ``csrf_token``) and, when
the browser sends ``Origin``, come from this host; bearer requests are exempt (a browser never adds that header on
its own).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from service.api.context import AppContext
from service.api.crud import users as user_store
from service.api.errors import AccessDenied, NotAuthenticated
from service.api.security import SessionClaims, password_tag

SESSION_COOKIE = "xiuhua_session"
CSRF_COOKIE = "xiuhua_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

_bearer = HTTPBearer(auto_error=False, description="An API token from `xiuhua tokens create`.")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="The login cookie.")


@dataclass(frozen=True)
class Principal:
    """Who is calling.

    Attributes:
        user_id: The user (a token acts as the user it was created for).
        username: Their name, for the audit log.
        role: ``reviewer`` or ``admin``.
        via: ``session`` (login cookie) or ``token`` (bearer).
        session: The cookie's claims when ``via`` is ``session``.
        token_id: The token's row id when ``via`` is ``token``.
    """

    user_id: int
    username: str
    role: str
    via: Literal["session", "token"]
    session: SessionClaims | None = None
    token_id: int | None = None

    @property
    def is_admin(self) -> bool:
        """Whether the caller has the admin role."""
        return self.role == "admin"


def get_context(request: Request) -> AppContext:
    """The app's dependencies."""
    context: AppContext = request.app.state.context
    return context


ContextDep = Annotated[AppContext, Depends(get_context)]


def get_session(context: ContextDep) -> Iterator[Session]:
    """One database session per request; routes commit once, anything uncommitted is rolled back."""
    with context.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


async def submitted_csrf_token(request: Request) -> str | None:
    """The CSRF token the request carries: the header, or a form's ``csrf_token`` field."""
    token = request.headers.get(CSRF_HEADER)
    if token is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
        value = (await request.form()).get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    return token


def current_principal(
    request: Request,
    context: ContextDep,
    session: SessionDep,
    csrf_token: Annotated[str | None, Depends(submitted_csrf_token)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Principal:
    """The authenticated caller.

    Raises:
        NotAuthenticated: No credentials, or invalid, expired or revoked ones.
        AccessDenied: A cookie request that changes state without its CSRF token or from another origin.
    """
    if request.headers.get("authorization"):
        return _token_principal(session, bearer)
    if not cookie:
        raise NotAuthenticated()
    principal = _cookie_principal(context, session, cookie)
    if request.method not in SAFE_METHODS:
        _check_same_origin(request)
        assert principal.session is not None
        if not context.signer.csrf_matches(principal.session, csrf_token):
            raise AccessDenied(f"missing or wrong CSRF token: send the {CSRF_HEADER} header or a {CSRF_FIELD} field")
    return principal


def _token_principal(session: Session, bearer: HTTPAuthorizationCredentials | None) -> Principal:
    if bearer is None:
        raise NotAuthenticated("the Authorization header must be 'Bearer <token>'")
    found = user_store.user_for_token(session, token=bearer.credentials)
    if found is None:
        raise NotAuthenticated("unknown or revoked API token")
    user, token = found
    return Principal(user.id, user.username, user.role, "token", token_id=token.id)


def _cookie_principal(context: AppContext, session: Session, cookie: str) -> Principal:
    claims = context.signer.read(cookie, now=context.clock())
    user = user_store.get_user(session, user_id=claims.user_id) if claims else None
    if claims is None or user is None or not user.active or claims.password_tag != password_tag(user.password_hash):
        raise NotAuthenticated("the login has expired or is no longer valid; log in again")
    return Principal(user.id, user.username, user.role, "session", session=claims)


def _check_same_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise AccessDenied(f"cross-origin request from {origin} refused")


UserDep = Annotated[Principal, Depends(current_principal)]


def require_admin(principal: UserDep) -> Principal:
    """The caller, who must be an admin.

    Raises:
        AccessDenied: The caller is a reviewer.
    """
    if not principal.is_admin:
        raise AccessDenied("this needs the admin role")
    return principal


AdminDep = Annotated[Principal, Depends(require_admin)]


def require_token(principal: UserDep) -> Principal:
    """The caller, who must use a bearer token (machine-to-machine endpoints such as the platform callback).

    Raises:
        AccessDenied: The caller used a login cookie.
    """
    if principal.via != "token":
        raise AccessDenied("this endpoint is for machines: authenticate with an API token")
    return principal


TokenDep = Annotated[Principal, Depends(require_token)]
