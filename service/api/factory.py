"""``create_app``: the FastAPI app, built from explicit dependencies (nothing happens at import time).

engine = make_engine(database_url)
app = create_app(ApiSettings(session_secret=secret), engine=engine, evidence_root=data / "evidence")
uvicorn.run(app)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine

from service.api import pages
from service.api.context import AppContext
from service.api.errors import install_error_handlers
from service.api.middleware import BodyLimitMiddleware, InternalErrorMiddleware, SecurityHeadersMiddleware
from service.api.routes import (
    auth,
    cameras,
    candidates,
    cases,
    docs,
    evidence,
    health,
    ingest,
    metrics,
    review,
    streams,
    uploads,
    users,
)
from service.api.routes.ingest import IngestFactory, default_ingest
from service.api.security import SessionSigner
from service.api.settings import ApiSettings
from service.api.throttle import LoginThrottle
from service.db import session_factory, utcnow
from service.evidence import EvidenceStore
from service.references import ReferenceStore

if TYPE_CHECKING:
    import httpx

    from service.streams import StreamManager

# Everything else needs a login cookie or a bearer token.
PUBLIC_PATHS = frozenset({"/healthz", "/api/auth/login"}) | pages.PUBLIC_PATHS
# Room for multipart boundaries and the small form fields around a file.
MULTIPART_SLACK_BYTES = 64 * 1024


def create_app(
    settings: ApiSettings,
    *,
    engine: Engine,
    evidence_root: Path,
    data_root: Path | None = None,
    http_client: httpx.Client | None = None,
    clock: Callable[[], datetime] = utcnow,
    make_ingest: IngestFactory | None = None,
    extra_routers: Sequence[APIRouter] = (),
    streams: StreamManager | None = None,
) -> FastAPI:
    """Build the HTTP service.

    Args:
        settings: Secrets and limits.
        engine: The database (its schema already migrated: see :func:`service.db.init_db`).
        evidence_root: Folder of evidence files (served read-only, no path escapes).
        data_root: Folder for uploads (``uploads/``) and reference images (``references/``); the parent of
            ``evidence_root`` by default.
        http_client: Outbound HTTP client for posting, kept on the context for routes that need it.
        clock: Current aware UTC time; tests move it to expire logins and claims.
        make_ingest: Builds the ingest job for ``POST /api/ingest`` from a line-problem callback (rules and
            de-duplication settings live in it); default: the taxonomy's classes, 50 m / 24 h.
        extra_routers: More routers to include after the API and pages (e.g. a test's own).
        streams: The camera streams being watched, for ``/api/streams`` and ``/metrics`` (which answer 503
            without one); the caller starts and closes it.

    Returns:
        The app; its dependencies are on ``app.state.context`` (:class:`~service.api.context.AppContext`).
    """
    data_root = data_root if data_root is not None else evidence_root.parent
    context = AppContext(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        evidence=EvidenceStore(evidence_root),
        references=ReferenceStore(data_root / "references"),
        data_root=data_root,
        signer=SessionSigner(settings.session_secret, settings.session_max_age_s),
        clock=clock,
        login_throttle=LoginThrottle(max_failures=settings.login_max_failures, window_s=settings.login_window_s),
        make_ingest=make_ingest or default_ingest(),
        http_client=http_client,
    )
    app = FastAPI(
        title=settings.title,
        description="Cameras, candidates, the review queue, cases and evidence of xiuhua.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.context = context
    app.state.streams = streams
    install_error_handlers(app, login_url=settings.login_url)
    for router in (*_api_routers(), docs.router, pages.router, *extra_routers):
        app.include_router(router)
    app.add_middleware(BodyLimitMiddleware, default_limit=settings.max_request_bytes, limits=_body_limits(settings))
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(InternalErrorMiddleware)  # added last: outermost
    return app


def _api_routers() -> list[APIRouter]:
    return [
        health.router,
        auth.router,
        users.router,
        cameras.router,
        candidates.router,
        review.router,
        cases.router,
        evidence.router,
        uploads.router,
        ingest.router,
        streams.router,
        metrics.router,
    ]


def _body_limits(settings: ApiSettings) -> list[tuple[str, int]]:
    return [
        (r"/api/uploads", settings.max_upload_bytes + MULTIPART_SLACK_BYTES),
        (r"/api/cameras/[^/]+/references", settings.max_image_bytes + MULTIPART_SLACK_BYTES),
        (r"/api/ingest", settings.max_ingest_bytes),
    ]
