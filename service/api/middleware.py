"""ASGI middleware of the app: the 500 safety net, body size limits and security headers."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence

from fastapi.responses import JSONResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.errors import PayloadTooLarge, error_body

log = logging.getLogger(__name__)

# Sent with every answer: no MIME sniffing, no framing by other sites (clickjacking), no referrer leaks.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class InternalErrorMiddleware:
    """Outermost middleware: an unexpected exception is logged with an id and answered 500 without the trace."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            error_id = uuid.uuid4().hex[:12]
            log.exception("internal error %s on %s %s", error_id, scope.get("method"), scope.get("path"))
            if started:
                raise
            body = error_body(f"internal error (id {error_id}); the details are in the server log")
            await JSONResponse({**body, "error_id": error_id}, status_code=500)(scope, receive, send)


class BodyLimitMiddleware:
    """Refuse request bodies over a per-path limit with 413, before any route reads them.

    A declared ``Content-Length`` over the limit is refused before the body is read (and before authentication);
    a chunked body is counted as it arrives.

    Args:
        app: The wrapped application.
        default_limit: Limit for paths not listed.
        limits: ``(path regex, limit)`` pairs, the regex matched against the whole path; the first match wins.
    """

    def __init__(self, app: ASGIApp, *, default_limit: int, limits: Sequence[tuple[str, int]] = ()) -> None:
        self.app = app
        self.default_limit = default_limit
        self.limits = [(re.compile(pattern), limit) for pattern, limit in limits]

    def limit_for(self, path: str) -> int:
        """The body limit for a request path."""
        return next((limit for pattern, limit in self.limits if pattern.fullmatch(path)), self.default_limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await JSONResponse(error_body(PayloadTooLarge(None, limit).detail), status_code=413)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(None, limit)
            return message

        await self.app(scope, limited_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class SecurityHeadersMiddleware:
    """Add :data:`SECURITY_HEADERS` to every HTTP answer (a route's own value wins)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)
