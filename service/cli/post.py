"""``xiuhua post``: deliver confirmed cases from the outbox to the city platform; list and retry dead letters."""

from __future__ import annotations

import signal
import threading
from datetime import datetime
from typing import TYPE_CHECKING

import typer

from service.defaults import database_url

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from service.posting.sender import OutboxSender


def register(app: typer.Typer) -> None:
    """Add the ``post`` command to ``app``."""
    app.command("post")(post)


def post(
    url: str | None = typer.Option(None, "--url", help="The platform's case URL (default: $XIUHUA_POST_URL)."),
    database: str | None = typer.Option(None, "--database", help="Database URL (default: $DATABASE_URL or data/)."),
    loop: bool = typer.Option(False, "--loop", help="Keep sending until interrupted (default: one round)."),
    poll: float = typer.Option(5.0, "--poll", min=0.1, help="Seconds between rounds with --loop."),
    mqtt_host: str | None = typer.Option(None, "--mqtt-host", help="Also publish to this MQTT broker."),
    dead: bool = typer.Option(False, "--dead", help="List dead-lettered messages and exit."),
    retry: list[int] = typer.Option([], "--retry", help="Put this dead letter back in the queue (repeatable)."),
) -> None:
    """Send due outbox messages: POST JSON with an Idempotency-Key, retry with backoff, dead-letter after N.

    Settings beyond the options come from XIUHUA_POST_* variables (see service/posting/settings.py);
    XIUHUA_POST_BLUR_FACES=1 blurs faces in the photos sent. Exit code 2 for bad settings (including face blurring
    without a face detector) or an unreachable database.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from service.db import make_engine, session_factory
    from service.posting.errors import PostingError

    engine = make_engine(database or database_url())
    sessions = session_factory(engine)
    try:
        if dead or retry:
            _admin(sessions, dead=dead, retry=retry)
            return
        _send(sessions, url=url, mqtt_host=mqtt_host, loop=loop, poll=poll)
    except SQLAlchemyError as error:
        where = engine.url.render_as_string(hide_password=True)
        typer.echo(f"error: database {where}: {getattr(error, 'orig', None) or error}", err=True)
        raise typer.Exit(2) from error
    except (PostingError, ValueError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    finally:
        engine.dispose()


def _admin(sessions: sessionmaker[Session], *, dead: bool, retry: list[int]) -> None:
    from service.posting.outbox import dead_letters, retry_dead

    with sessions() as session, session.begin():
        for message_id in retry:
            state = retry_dead(session, message_id=message_id)
            typer.echo(f"message {state.id} (case {state.case_id}, {state.target}) queued again")
    if not dead:
        return
    with sessions() as session:
        letters = dead_letters(session, limit=1000)
    for letter in letters:
        typer.echo(
            f"{letter.id}\tcase {letter.case_id}\t{letter.target}\t{letter.kind}\t{letter.attempts} attempts\t"
            f"{letter.idempotency_key}\t{letter.last_error or ''}"
        )
    typer.echo(f"{len(letters)} dead letter(s)", err=True)


def _send(sessions: sessionmaker[Session], *, url: str | None, mqtt_host: str | None, loop: bool, poll: float) -> None:
    import httpx

    from service.posting.mqtt import MqttPublisher
    from service.posting.photos import face_blurrer
    from service.posting.sender import OutboxSender
    from service.posting.settings import PostingSettings

    settings = PostingSettings.from_env(url=url, mqtt_host=mqtt_host)
    if not settings.targets:
        raise ValueError("nothing to send to: give --url (or XIUHUA_POST_URL) and/or --mqtt-host")
    # Built before anything is claimed: without a face detector the run stops here (exit 2), no message dies.
    blurrer = face_blurrer(settings) if settings.blur_faces else None
    publisher = MqttPublisher(settings) if settings.mqtt_host else None
    with httpx.Client() as client:
        sender = OutboxSender(settings, client, sessions, mqtt=publisher, blurrer=blurrer)
        try:
            if loop:
                _run_until_stopped(sender, poll)
            else:
                report = sender.run_once()
                typer.echo(
                    f"claimed {report.claimed}, sent {report.sent}, retried {report.retried}, dead {report.dead}"
                    + (f", lost {report.lost}" if report.lost else ""),
                    err=True,
                )
        finally:
            if publisher is not None:
                publisher.close()


def _run_until_stopped(sender: OutboxSender, poll: float) -> None:
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    typer.echo(f"sending every {poll:g} s from {datetime.now().astimezone():%H:%M:%S}; Ctrl-C stops", err=True)
    try:
        sender.run_forever(stop, poll_s=poll)
    except KeyboardInterrupt:
        stop.set()
    finally:
        signal.signal(signal.SIGTERM, previous)
