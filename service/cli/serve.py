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

    from service.streams import StreamManager

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
    watch: bool = typer.Option(False, "--watch", help="Also watch the cameras with a stream URL into the queue."),
    model: Path | None = typer.Option(None, "--model", help="With --watch: model file or folder (default: shipped)."),
    rules: Path | None = typer.Option(None, "--rules", help="With --watch: rules folder or rules.yaml."),
    sync_every: float = typer.Option(30.0, "--sync-every", min=1, help="With --watch: seconds between camera syncs."),
) -> None:
    """Serve the API: OpenAPI docs at /docs, health at /healthz; everything else needs a login or an API token.

    The database is migrated on start. Logins are signed with $XIUHUA_SESSION_SECRET, or with a secret kept in
    DATA/session-secret (made on first start). Add people with 'xiuhua users add', machines with 'xiuhua tokens
    create'.

    With --watch, the enabled cameras with a stream URL are watched too (detect, track, rules, evidence, the review
    queue), kept in step with the cameras table every --sync-every seconds (or at once: POST /api/streams/sync);
    their health is at /api/streams and /metrics.
    """
    import uvicorn

    from service.db import DatabaseError, make_engine, session_factory
    from service.pipeline.stream_setup import PeriodicSync
    from vision.errors import VisionError

    folder = data or data_dir()
    manager: StreamManager | None = None
    syncing: PeriodicSync | None = None
    try:
        engine = make_engine(database or database_url())
        manager = stream_manager(engine, data=folder, model=model, rules=rules) if watch else None
        app = build_app(
            engine=engine, data=folder, secure_cookies=secure_cookies, post_to=tuple(post_to), streams=manager
        )
        if manager is not None:
            syncing = PeriodicSync(manager, session_factory(engine), every_s=sync_every).start()
    except (DatabaseError, ValueError, OSError, VisionError) as error:  # RulesError is a ValueError
        if manager is not None:
            manager.close()
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(f"xiuhua: serving on http://{host}:{port} (docs at /docs), data in {folder}", err=True)
    try:
        uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=False)
    finally:
        if syncing is not None:
            syncing.stop()
        if manager is not None:
            manager.close()
        engine.dispose()


def stream_manager(engine: Engine, *, data: Path, model: Path | None, rules: Path | None) -> StreamManager:
    """The stream manager of ``serve --watch``: the model and rules loaded, no streams yet.

    Raises:
        VisionError: The model cannot be loaded.
        RulesError: The rules cannot be read.
    """
    from service.defaults import default_model_path
    from service.pipeline.stream_setup import pipeline_stream_manager
    from service.rules import RuleBook
    from vision.detect import load_detector

    detector = load_detector(model or default_model_path())
    return pipeline_stream_manager(
        engine, model=detector, data=data, rules=RuleBook.load(rules) if rules is not None else None
    )


def build_app(
    *,
    engine: Engine,
    data: Path,
    secure_cookies: bool = False,
    post_to: tuple[str, ...] = ("http",),
    streams: StreamManager | None = None,
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
    return create_app(settings, engine=engine, evidence_root=evidence, data_root=data, streams=streams)


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
