"""The OpenAPI document and Swagger UI, behind the same authentication as the API."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from service.api.deps import UserDep

OPENAPI_URL = "/openapi.json"
router = APIRouter(include_in_schema=False)


@router.get(OPENAPI_URL)
def openapi(request: Request, user: UserDep) -> JSONResponse:
    """The OpenAPI schema of every route."""
    return JSONResponse(request.app.openapi())


@router.get("/docs")
def docs(request: Request, user: UserDep) -> HTMLResponse:
    """Swagger UI (its scripts come from the CDN in the browser; nothing is copied into the repository)."""
    return get_swagger_ui_html(openapi_url=OPENAPI_URL, title=f"{request.app.title} API")
