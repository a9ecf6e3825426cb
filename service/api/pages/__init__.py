"""The server-rendered review pages: login, the queue, the item page with keyboard shortcuts.

``router`` holds every page; :func:`service.api.factory.create_app` includes it after the JSON API. The pages use
the API's login cookie and its CSRF token (every form that changes state posts ``csrf_token``, checked by
:func:`service.api.deps.current_principal`), the review logic of :mod:`service.review` and the evidence URLs of
``/api/evidence/``. Templates are in ``service/api/templates``, our own CSS and JavaScript in ``service/api/static``
(nothing from another host: the pages work without a network).

Paths:

- ``GET /login``, ``POST /login``, ``POST /logout``; ``GET /static/review.css``, ``GET /static/review.js``.
- ``GET /`` (→ the queue), ``GET /queue`` (filters in the query), ``POST /queue/bulk``.
- ``POST /review/claim``, ``GET /review/{id}``, ``POST /review/{id}/confirm|reject|relabel|merge|release``,
  ``POST /review/undo``.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from service.api.pages import auth, queue, review
from service.api.pages.rendering import LOGIN_PATH, STATIC_DIR, TEMPLATES_DIR

# Our own assets, by their public name: (file, media type). Public so that the login page is styled.
ASSETS = {
    "review.css": "text/css",
    "review.js": "text/javascript",
}
ASSET_HEADERS = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}

# Page paths reachable without logging in: the login form and the assets it needs.
PUBLIC_PATHS: frozenset[str] = frozenset({LOGIN_PATH} | {f"/static/{name}" for name in ASSETS})

router = APIRouter(tags=["pages"], include_in_schema=False)
router.include_router(auth.router)
router.include_router(queue.router)
router.include_router(review.router)


def _asset_route(name: str, media_type: str) -> None:
    def asset() -> FileResponse:
        return FileResponse(STATIC_DIR / name, media_type=media_type, headers=ASSET_HEADERS)

    asset.__name__ = f"asset_{name.replace('.', '_')}"
    router.add_api_route(f"/static/{name}", asset, methods=["GET"], include_in_schema=False)


for _name, _media_type in ASSETS.items():
    _asset_route(_name, _media_type)

__all__ = ["LOGIN_PATH", "PUBLIC_PATHS", "TEMPLATES_DIR", "router"]
