"""``/healthz``: the one endpoint without authentication."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from service.api.deps import ContextDep

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and database check (no authentication)")
def healthz(context: ContextDep) -> JSONResponse:
    """200 ``{"status": "ok"}`` when the database answers a trivial query, 503 otherwise."""
    try:
        with context.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        log.warning("health check: database unavailable: %s", error)
        return JSONResponse({"status": "unavailable", "detail": "the database does not answer"}, status_code=503)
    return JSONResponse({"status": "ok"})
