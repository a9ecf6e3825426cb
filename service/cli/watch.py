"""``xiuhua watch``: watch live camera streams from a config file (and the database), with health and metrics."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import typer

from service.cli.main import app
from service.defaults import default_model_path

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from service.streams import HandlerFactory, StreamManager, StreamManagerSettings, StreamStatus, SyncResult
    from vision.detect import Detector


@app.command()
def watch(
    config: Path | None = typer.Option(None, "--config", "-c", help="YAML list of cameras with stream URLs."),
    db: bool = typer.Option(False, "--db", help="Also watch the database's enabled cameras with a stream URL."),
    model: Path | None = typer.Option(None, "--model", "-m", help="Model file or folder (default: shipped model)."),
    conf: float | None = typer.Option(
        None,
        help="Operating confidence (default: the model card's): the printed detections' threshold; in the pipeline "
        "tracks start at it and detections down to 0.4 of it continue them.",
    ),
    threads: int | None = typer.Option(None, min=1, help="Inference threads (default: the runtime's choice)."),
    device: str = typer.Option("cpu", help="'cpu' or 'cuda'."),
    health_every: float = typer.Option(10.0, min=0, help="Seconds between health lines on stderr (0: none)."),
    sync_every: float = typer.Option(30.0, min=0.1, help="Seconds between checks of the config file and database."),
    metrics_port: int | None = typer.Option(None, min=1, max=65535, help="Serve Prometheus /metrics on this port."),
    max_lag: float = typer.Option(2.0, min=0.1, help="Frames older than this many seconds are dropped unhandled."),
    duration: float = typer.Option(0.0, min=0, help="Stop after this many seconds (0: until Ctrl-C or SIGTERM)."),
    print_only: bool = typer.Option(False, "--print-only", help="Print detections as JSON lines; record nothing."),
    database: str | None = typer.Option(None, "--database", help="Database URL (default: $DATABASE_URL or data/)."),
    data: Path | None = typer.Option(None, "--data", help="Data folder: evidence, references (default: $XIUHUA_DATA)."),
    rules: Path | None = typer.Option(None, "--rules", help="Rules folder or rules.yaml (zones, permits)."),
) -> None:
    """Watch live streams: detect, track, judge and queue violation candidates in the database.

    Streams come from ``--config`` (re-read when the file changes: cameras are added, changed and removed without a
    restart) and, with ``--db``, from the cameras table. A stream's camera, when registered, gives its sightings
    their place (calibration or position) and its reference image the objects that are not new. A stall that stays
    is queued once it has stayed long enough, while it is still there. ``--print-only`` prints one JSON line per
    detection instead and needs no database. Health lines go to stderr every ``--health-every`` seconds.
    """
    from dataclasses import replace

    from service.db import session_factory
    from service.streams import StreamConfigError, StreamManager, StreamManagerSettings, load_stream_config
    from vision.detect import load_detector
    from vision.errors import ModelError

    if config is None and not db:
        raise typer.BadParameter("give --config FILE, --db, or both", param_hint="--config")
    try:
        specs = load_stream_config(config) if config is not None else []
    except StreamConfigError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    try:
        detector = load_detector(model or default_model_path(), device=device, threads=threads)
    except ModelError as error:
        typer.echo(f"error: model {error}", err=True)
        raise typer.Exit(2) from error
    settings = replace(StreamManagerSettings(), max_lag_s=max_lag)
    # The pipeline records into the (migrated) database; --print-only reads it only for --db.
    engine = _engine(database, migrate=not print_only) if db or not print_only else None
    sessions = session_factory(engine) if engine is not None and db else None
    if print_only or engine is None:
        manager = StreamManager(settings, handler_factory(detector, conf))
    else:
        manager = _pipeline_manager(engine, detector, conf=conf, data=data, rules=rules, settings=settings)
    try:
        with manager:
            manager.sync(specs, origin="config")
            loop = WatchLoop(
                manager, config, db=db, health_every=health_every, sync_every=sync_every, sessions=sessions
            )
            with _metrics_server(manager, metrics_port), _stop_on_signals() as stop:
                loop.run(stop, duration)
            loop.print_health()
    finally:
        if engine is not None:
            engine.dispose()


def handler_factory(detector: Detector, conf: float | None) -> HandlerFactory:
    """What each stream's frames go to with ``--print-only``: detections printed as JSON lines on stdout."""
    from service.streams.handlers import detection_printer_factory

    return detection_printer_factory(detector, sys.stdout, conf=conf)


def _engine(url: str | None, *, migrate: bool) -> Engine:
    from service.db import DatabaseError, init_db, make_engine
    from service.defaults import database_url

    try:
        engine = make_engine(url or database_url())
        if migrate:
            init_db(engine)
    except (DatabaseError, ValueError, OSError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    return engine


def _pipeline_manager(
    engine: Engine,
    detector: Detector,
    *,
    conf: float | None,
    data: Path | None,
    rules: Path | None,
    settings: StreamManagerSettings,
) -> StreamManager:
    from service.defaults import data_dir
    from service.pipeline.stream_setup import pipeline_stream_manager
    from service.rules import RuleBook, RulesError

    try:
        book = RuleBook.load(rules) if rules is not None else None
    except RulesError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    return pipeline_stream_manager(
        engine, model=detector, data=data or data_dir(), conf=conf, rules=book, settings=settings
    )


class WatchLoop:
    """The main thread's chores while the workers run: health lines, config reloads, database syncs."""

    def __init__(
        self,
        manager: StreamManager,
        config: Path | None,
        *,
        db: bool,
        health_every: float,
        sync_every: float,
        sessions: sessionmaker[Session] | None = None,
    ) -> None:
        self.manager = manager
        self.config = config
        self.db = db
        self.health_every = health_every
        self.sync_every = sync_every
        self._config_mtime = config.stat().st_mtime_ns if config is not None else None
        self._session_factory = (sessions or _db_sessions()) if db else None

    def run(self, stop: threading.Event, duration: float) -> None:
        """Ticks until ``stop`` is set or ``duration`` seconds passed (0: no limit)."""
        started = time.monotonic()
        next_health = started + self.health_every
        next_sync = started  # the database is read at once
        while not stop.is_set():
            now = time.monotonic()
            if duration and now - started >= duration:
                return
            if now >= next_sync:
                self.sync()
                next_sync = now + self.sync_every
            if self.health_every and now >= next_health:
                self.print_health()
                next_health = now + self.health_every
            stop.wait(min(0.2, max(0.01, min(next_sync, next_health) - time.monotonic())))

    def sync(self) -> None:
        """Re-reads the config file if it changed, and the database."""
        from service.streams import StreamConfigError, load_stream_config

        if self.config is not None and self._config_changed():
            try:
                _echo_sync("config", self.manager.sync(load_stream_config(self.config), origin="config"))
            except StreamConfigError as error:
                typer.echo(f"config not reloaded: {error}", err=True)
        if self._session_factory is not None:
            with self._session_factory() as session:
                result = self.manager.sync_from_db(session)
            _echo_sync("database", result)

    def print_health(self) -> None:
        """One line per stream on stderr."""
        now = datetime.now(UTC)
        for status in self.manager.health().values():
            typer.echo(health_line(status, now), err=True)

    def _config_changed(self) -> bool:
        assert self.config is not None
        try:
            mtime = self.config.stat().st_mtime_ns
        except OSError:
            return False  # an editor replacing the file; read it next time
        changed, self._config_mtime = mtime != self._config_mtime, mtime
        return changed


def health_line(status: StreamStatus, now: datetime) -> str:
    """``cam-1 running in=120 out=40 gated=70 dropped=10 lag=0.12s max=0.50s reconnects=0 last=1.2s ago``."""
    lag = "-" if status.lag_s is None else f"{status.lag_s:.2f}s"
    max_lag = "-" if status.max_lag_s is None else f"{status.max_lag_s:.2f}s"
    last = "never" if status.last_frame_time is None else f"{(now - status.last_frame_time).total_seconds():.1f}s ago"
    line = (
        f"{status.key} {status.state} in={status.frames_in} out={status.frames_out} gated={status.gated} "
        f"dropped={status.dropped} lag={lag} max={max_lag} reconnects={status.reconnects} last={last}"
    )
    return f"{line} error={status.error}" if status.error and status.state != "running" else line


def _echo_sync(origin: str, result: SyncResult) -> None:
    for verb, keys in (("added", result.added), ("updated", result.updated), ("removed", result.removed)):
        for key in keys:
            typer.echo(f"{origin}: {verb} {key}", err=True)
    for key, reason in result.skipped.items():
        typer.echo(f"{origin}: skipped {key}: {reason}", err=True)


def _db_sessions() -> sessionmaker[Session]:
    from service.db import make_engine, session_factory
    from service.defaults import database_url

    return session_factory(make_engine(database_url()))


@contextmanager
def _metrics_server(manager: StreamManager, port: int | None) -> Iterator[None]:
    if port is None:
        yield
        return
    from prometheus_client import start_http_server

    from service.streams.metrics import metrics_registry

    server, thread = start_http_server(port, registry=metrics_registry(manager))
    typer.echo(f"metrics on http://0.0.0.0:{port}/metrics", err=True)
    try:
        yield
    finally:
        server.shutdown()
        thread.join(timeout=5)


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM (handlers installed only on the main thread, restored afterwards)."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {number: signal.signal(number, request_stop) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
