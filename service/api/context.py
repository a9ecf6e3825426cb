"""What every request can reach: settings, the database, folders and clients, built once by the factory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.api.security import SessionSigner
from service.api.settings import ApiSettings
from service.api.throttle import LoginThrottle
from service.evidence import EvidenceStore
from service.references import ReferenceStore

if TYPE_CHECKING:
    import httpx

    from service.violations.ingest import Ingest, LineProblem


@dataclass(frozen=True)
class AppContext:
    """The app's dependencies, kept on ``app.state.context``.

    Attributes:
        settings: The API settings.
        engine: The database engine.
        sessions: Session factory bound to ``engine``.
        evidence: The evidence folder files are served from (no path escapes).
        references: Reference images (``data_root/references``; rows' ``image_path`` is relative to it).
        data_root: Folder uploads are stored under.
        signer: Signs and checks login cookies and CSRF tokens.
        clock: Current aware UTC time (injected so tests can move it).
        login_throttle: Failed-login counts (per process).
        make_ingest: Builds the ingest job of one request, given where to report line problems.
        http_client: Outbound HTTP client (posting), or ``None``.
    """

    settings: ApiSettings
    engine: Engine
    sessions: sessionmaker[Session]
    evidence: EvidenceStore
    references: ReferenceStore
    data_root: Path
    signer: SessionSigner
    clock: Callable[[], datetime]
    login_throttle: LoginThrottle
    make_ingest: Callable[[Callable[[LineProblem], None]], Ingest]
    http_client: httpx.Client | None = None

    @property
    def uploads_dir(self) -> Path:
        """Where uploaded images and clips wait to be scanned."""
        return self.data_root / "uploads"
