"""``xiuhua serve``: the HTTP API (and later the review pages) with uvicorn."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from service.defaults import data_dir, database_url

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy import Engine

SECRET_ENV = "XIUHUA_SESSION_SECRET"
SECRET_FILE = "session-secret"


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command to ``app``."""
    app.command("serve")(serve)


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
    database: str | None = typer.Option(None, "--database", help="Database URL (default: $DATABASE_URL or data/)."),
    data: Path | None = typer.Option(None, "--data", help="Data folder: evidence, uploads (default: $XIUHUA_DATA)."),
    secure_cookies: bool = typer.Option(False, "--secure-cookies", help="Send cookies over HTTPS only (behind TLS)."),
    post_to: list[str] = typer.Option(["http"], "--post-to", help="Posting targets of confirmed cases (http, mqtt)."),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
) -> None:
    """Serve the API: OpenAPI docs at /docs, health at /healthz; everything else needs a login or an API token.

    The database is migrated on start. Logins are signed with $XIUHUA_SESSION_SECRET, or with a secret kept in
    DATA/session-secret (made on first start). Add people with 'xiuhua users add', machines with 'xiuhua tokens
    create'.
    """
    import uvicorn

    from service.db import DatabaseError, make_engine

    folder = data or data_dir()
    try:
        engine = make_engine(database or database_url())
        app = build_app(engine=engine, data=folder, secure_cookies=secure_cookies, post_to=tuple(post_to))
    except (DatabaseError, ValueError, OSError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(f"xiuhua: serving on http://{host}:{port} (docs at /docs), data in {folder}", err=True)
    try:
        uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=False)
    finally:
        engine.dispose()


def build_app(
    *, engine: Engine, data: Path, secure_cookies: bool = False, post_to: tuple[str, ...] = ("http",)
) -> FastAPI:
    """The app ``xiuhua serve`` runs: migrate the database, load the secret, build with the data folder's layout.

    Raises:
        DatabaseError: The database cannot be migrated.
        ValueError: Bad settings (an unknown posting target, a short secret in the environment).
        OSError: The data folder or the secret file cannot be written.
    """
    from service.api import ApiSettings, create_app
    from service.db import init_db

    init_db(engine)
    settings = ApiSettings(session_secret=session_secret(data), secure_cookies=secure_cookies, posting_targets=post_to)
    evidence = data / "evidence"
    evidence.mkdir(parents=True, exist_ok=True)
    return create_app(settings, engine=engine, evidence_root=evidence, data_root=data)


def session_secret(data: Path) -> str:
    """``$XIUHUA_SESSION_SECRET``, or the secret in ``data/session-secret`` (created, owner-only, if missing).

    Keeping it in a file means a restart does not log everyone out.
    """
    from_env = os.environ.get(SECRET_ENV)
    if from_env:
        return from_env
    path = data / SECRET_FILE
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    data.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    return secret
