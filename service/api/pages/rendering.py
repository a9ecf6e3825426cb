"""Rendering the review pages: the Jinja2 environment, page headers, and errors as readable HTML pages.

Every page route is a :class:`PageRoute`: whatever goes wrong (a service error, a refused CSRF token, a malformed
form or path) is answered with an HTML page that says what happened in Chinese and English, with the right 4xx
status and never a trace. A browser without a login is sent to the login form; scripts and API clients calling a
page path without credentials still get the API's JSON 401.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from service.api.context import AppContext
from service.api.deps import Principal
from service.api.errors import SERVICE_STATUS, NotAuthenticated
from service.errors import Conflict, ServiceError
from service.review import UNDO_WINDOW_S

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
LOGIN_PATH = "/login"
# Times are stored in UTC; reviewers read and type them in the city's zone.
DISPLAY_ZONE = ZoneInfo("Asia/Shanghai")
DISPLAY_ZONE_LABEL = "UTC+8"
# Our own files only: no inline script or style, nothing from another host (the pages work without a network).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
RELOAD_HINT = "The form was out of date or came from another site: reload the page and try again. 请刷新页面后重试。"
PAGE_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-store"}

# Status → (Chinese, English) title of the error page.
ERROR_TITLES: dict[int, tuple[str, str]] = {
    400: ("请求有误", "Bad request"),
    401: ("需要登录", "Please log in"),
    403: ("不允许此操作", "Not allowed"),
    404: ("未找到", "Not found"),
    409: ("操作冲突", "Conflict"),
    413: ("内容过大", "Too large"),
    415: ("类型不支持", "Unsupported type"),
    422: ("输入有误", "Invalid input"),
    429: ("请稍后再试", "Too many attempts"),
}


def local_time(value: datetime | None, with_seconds: bool = True) -> str:
    """An aware time as ``YYYY-MM-DD HH:MM[:SS]`` in :data:`DISPLAY_ZONE` (``—`` for none)."""
    if value is None:
        return "—"
    return value.astimezone(DISPLAY_ZONE).strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")


def _make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=TEMPLATES_DIR)
    templates.env.filters["local"] = local_time
    templates.env.globals["zone_label"] = DISPLAY_ZONE_LABEL
    templates.env.globals["undo_window"] = f"{UNDO_WINDOW_S:g}"
    templates.env.trim_blocks = True
    templates.env.lstrip_blocks = True
    return templates


templates = _make_templates()


def render(request: Request, name: str, values: Mapping[str, Any], *, status_code: int = 200) -> HTMLResponse:
    """The template ``name`` filled with ``values`` (autoescaped), with the pages' security headers."""
    response = templates.TemplateResponse(request, name, dict(values), status_code=status_code)
    response.headers.update(PAGE_HEADERS)
    return response


def page_values(principal: Principal, context: AppContext, **values: Any) -> dict[str, Any]:
    """What every logged-in page needs (who is logged in, the CSRF token of their forms) plus ``values``."""
    csrf_token = context.signer.csrf_token(principal.session) if principal.session is not None else ""
    return {"user": principal, "csrf_token": csrf_token, **values}


def redirect(url: str) -> RedirectResponse:
    """A 303 to ``url`` (after a form POST the browser follows with a GET)."""
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


@dataclass(frozen=True)
class PageProblem:
    """What the error page shows.

    Attributes:
        status: The HTTP status.
        title_zh: Chinese headline.
        title_en: English headline.
        detail: The error's own message (already meant for people).
        fields: ``(field, message)`` pairs when the input was at fault.
        hint: What to do next, if there is something better than going back.
    """

    status: int
    title_zh: str
    title_en: str
    detail: str
    fields: tuple[tuple[str, str], ...] = ()
    hint: str = ""


class HeldByOther(Conflict):
    """Someone else holds the item the reviewer tried to decide (a :class:`~service.errors.Conflict`, 409)."""


def problem_of(error: Exception) -> PageProblem | None:
    """The error page for ``error``, or ``None`` when it is not one of ours to explain."""
    if isinstance(error, HeldByOther):
        return _problem(409, str(error), title=("此条目正由其他审核员处理", "Someone else holds this item"))
    if isinstance(error, ServiceError):
        status = next((code for kind, code in SERVICE_STATUS if isinstance(error, kind)), 400)
        return _problem(status, str(error))
    if isinstance(error, RequestValidationError):
        fields = tuple(_validation_field(item) for item in error.errors())
        summary = "; ".join(f"{field}: {message}" for field, message in fields)
        return _problem(422, f"the request could not be read: {summary}", fields=fields)
    if isinstance(error, HTTPException):
        hint = ""
        if error.status_code == 403 and "CSRF" in str(error.detail):
            hint = RELOAD_HINT
        return _problem(error.status_code, str(error.detail), hint=hint)
    return None


def _problem(
    status: int,
    detail: str,
    *,
    title: tuple[str, str] | None = None,
    fields: tuple[tuple[str, str], ...] = (),
    hint: str = "",
) -> PageProblem:
    zh, en = title or ERROR_TITLES.get(status, ("出错了", "Something went wrong"))
    return PageProblem(status, zh, en, detail, fields, hint)


def _validation_field(item: Mapping[str, Any]) -> tuple[str, str]:
    location = [str(part) for part in item.get("loc", ())]
    name = ".".join(location[1:]) or (location[0] if location else "request")
    return name, str(item.get("msg", "invalid"))


def error_page(request: Request, problem: PageProblem, headers: Mapping[str, str] | None = None) -> HTMLResponse:
    """The error page of ``problem`` with its status (and e.g. ``Retry-After`` from ``headers``)."""
    values = {"problem": problem, "back": _back_link(request), "user": None}
    response = render(request, "error.html", values, status_code=problem.status)
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            response.headers[name] = value
    return response


def _back_link(request: Request) -> str:
    """Where "back" goes: the item the request was about, else the queue."""
    parts = request.url.path.strip("/").split("/")
    if len(parts) >= 2 and parts[0] == "review" and parts[1].isdigit():
        return f"/review/{parts[1]}"
    return "/queue"


def wants_html(request: Request) -> bool:
    """Whether the caller is a browser asking for a page (not a script that wants JSON)."""
    return "text/html" in request.headers.get("accept", "")


def login_redirect(request: Request) -> RedirectResponse:
    """Send a browser to the login form, coming back to the page it asked for."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect(f"{LOGIN_PATH}?next={quote(target, safe='')}")


class PageRoute(APIRoute):
    """A route whose failures are HTML pages (see the module docstring)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except NotAuthenticated:
                if not wants_html(request):
                    raise  # the API's JSON 401 for scripts
                if request.method == "GET":
                    return login_redirect(request)
                expired = _problem(401, "your login has expired; log in again and repeat the action")
                return error_page(request, expired)
            except (ServiceError, RequestValidationError, HTTPException) as error:
                problem = problem_of(error)
                if problem is None:  # pragma: no cover - every caught type has a page
                    raise
                return error_page(request, problem, getattr(error, "headers", None))

        return page_handler
