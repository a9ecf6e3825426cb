"""How failures become HTTP answers: every error is a JSON body with a ``detail`` and never a stack trace.

Body shape: ``{"detail": "what went wrong", "errors": [{"field": ..., "location": ..., "message": ...}]}`` —
``errors`` only when fields are at fault. The service's own error tree (:mod:`service.errors`) maps to 404 / 409 /
422 / 403; the API adds its own for authentication (401), size (413) and media type (415); anything else is logged
with an id and answered 500 with that id only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from service.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError
from service.posting.errors import MessageNotDead, MessageNotFound, PayloadError, PostingError

log = logging.getLogger(__name__)

SERVICE_STATUS: tuple[tuple[type[ServiceError], int], ...] = (
    (NotFound, 404),
    (Conflict, 409),
    (Invalid, 422),
    (Forbidden, 403),
)
POSTING_STATUS: tuple[tuple[type[PostingError], int], ...] = (
    (MessageNotFound, 404),
    (MessageNotDead, 409),
    (PayloadError, 422),
)


class ApiError(HTTPException):
    """An HTTP-level refusal with a status, a message and optionally the field at fault.

    It derives from Starlette's ``HTTPException`` so that one raised while the body is still being read (the size
    limit) passes through FastAPI's body parsing unchanged.
    """

    status = 400

    def __init__(self, detail: str, *, field: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code=self.status, detail=detail, headers=headers)
        self.field = field


class NotAuthenticated(ApiError):
    """No valid login cookie or bearer token."""

    status = 401

    def __init__(self, detail: str = "authentication required: log in or send Authorization: Bearer <token>") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class AccessDenied(ApiError):
    """Authenticated, but not allowed: a missing role, or a cookie request without its CSRF token."""

    status = 403


class TooManyRequests(ApiError):
    """Refused for now; ``Retry-After`` says for how long."""

    status = 429

    def __init__(self, detail: str, *, retry_after_s: float) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, round(retry_after_s)))})


class PayloadTooLarge(ApiError):
    """A body or file over its size limit."""

    status = 413

    def __init__(self, field: str | None, limit: int) -> None:
        what = f"{field} is" if field else "request body is"
        super().__init__(f"{what} larger than the limit of {limit} bytes", field=field)
        self.limit = limit


class UnsupportedMediaType(ApiError):
    """A file or body whose type is not accepted here."""

    status = 415

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(f"{field} {message}" if field else message, field=field)


class UnprocessableFile(ApiError):
    """A file of an accepted type that turns out unreadable (truncated, no video stream …)."""

    status = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field} {message}", field=field)


def error_body(detail: str, errors: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """The JSON body of every error answer."""
    return {"detail": detail, "errors": list(errors)} if errors else {"detail": detail}


def install_error_handlers(app: FastAPI, *, login_url: str | None) -> None:
    """Register the handlers that turn exceptions into JSON answers (and 401 on pages into a login redirect)."""

    async def on_service_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, ServiceError)
        status = next((code for kind, code in SERVICE_STATUS if isinstance(error, kind)), 400)
        field = getattr(error, "field", None)
        fields = [{"field": field, "location": "body", "message": str(error)}] if field else []
        return JSONResponse(error_body(str(error), fields), status_code=status)

    async def on_posting_error(request: Request, error: Exception) -> Response:
        status = next((code for kind, code in POSTING_STATUS if isinstance(error, kind)), None)
        if status is None:  # the broker or platform failed: not the caller's fault, and not a crash of ours
            log.warning("posting error on %s %s: %s", request.method, request.url.path, error)
            return JSONResponse(error_body("the posting service failed; try again later"), status_code=503)
        return JSONResponse(error_body(str(error)), status_code=status)

    async def on_validation_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        fields = [_field_error(item) for item in error.errors()]
        summary = "; ".join(f"{item['field']} ({item['location']}): {item['message']}" for item in fields)
        return JSONResponse(error_body(f"invalid request: {summary}", fields), status_code=422)

    async def on_http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        if isinstance(error, NotAuthenticated) and login_url and _wants_page(request):
            target = f"{login_url}?next={quote(request.url.path, safe='/')}"
            return RedirectResponse(target, status_code=303)
        field = getattr(error, "field", None)
        fields = [{"field": field, "location": "body", "message": str(error.detail)}] if field else []
        return JSONResponse(error_body(str(error.detail), fields), status_code=error.status_code, headers=error.headers)

    app.add_exception_handler(ServiceError, on_service_error)
    app.add_exception_handler(PostingError, on_posting_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)


def _field_error(item: dict[str, Any]) -> dict[str, Any]:
    location, *path = [str(part) for part in item.get("loc", ())] or ["request"]
    if item.get("type") == "json_invalid":
        position = f" at character {path[0]}" if path else ""
        error = item.get("ctx", {}).get("error", "")
        return {"field": "body", "location": location, "message": f"malformed JSON{position}: {error}".rstrip(": ")}
    return {"field": ".".join(path) or location, "location": location, "message": str(item.get("msg", "invalid"))}


def _wants_page(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")
