"""``xiuhua users`` (people who log in) and ``xiuhua tokens`` (API tokens for machines)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

import typer

from service.defaults import database_url

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

T = TypeVar("T")

users_app = typer.Typer(help="People who log in to the review pages and the API.", no_args_is_help=True)
tokens_app = typer.Typer(
    help="API tokens for machines (city platform callbacks, ingest, uploads).", no_args_is_help=True
)
DATABASE_HELP = "Database URL (default: $DATABASE_URL or data/)."


def register(app: typer.Typer) -> None:
    """Add the ``users`` and ``tokens`` command groups to ``app``."""
    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")


@users_app.command("add")
def add_user(
    name: str = typer.Argument(..., help="Login name."),
    role: str = typer.Option("reviewer", "--role", help="reviewer or admin."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin's first line."),
    database: str | None = typer.Option(None, "--database", help=DATABASE_HELP),
) -> None:
    """Add a user; the password is asked for (twice) or read from stdin, and stored only as an argon2 hash."""
    from service.api.crud import users as user_store

    password = _password(password_stdin)
    user = _in_session(database, lambda s: user_store.create_user(s, username=name, password=password, role=role))
    typer.echo(f"user {user.username} ({user.role}) added")


@users_app.command("list")
def list_users(database: str | None = typer.Option(None, "--database", help=DATABASE_HELP)) -> None:
    """Print users: name, role, active."""
    from service.api.crud import users as user_store

    for user in _in_session(database, user_store.list_users):
        typer.echo(f"{user.username}\t{user.role}\t{'active' if user.active else 'disabled'}")


@users_app.command("set-password")
def set_password(
    name: str = typer.Argument(..., help="Login name."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin's first line."),
    database: str | None = typer.Option(None, "--database", help=DATABASE_HELP),
) -> None:
    """Give a user a new password (their open logins end)."""
    from service.api.crud import users as user_store

    password = _password(password_stdin)
    _in_session(database, lambda s: user_store.set_password(s, username=name, password=password))
    typer.echo(f"password of {name} changed")


@users_app.command("disable")
def disable_user(
    name: str = typer.Argument(..., help="Login name."),
    enable: bool = typer.Option(False, "--enable", help="Enable again instead."),
    database: str | None = typer.Option(None, "--database", help=DATABASE_HELP),
) -> None:
    """Disable a user (logins and their tokens stop working) or, with --enable, enable them again."""
    from service.api.crud import users as user_store

    _in_session(database, lambda s: user_store.set_active(s, username=name, active=enable))
    typer.echo(f"user {name} {'enabled' if enable else 'disabled'}")


@tokens_app.command("create")
def create_token(
    name: str = typer.Argument(..., help="What the token is for, e.g. 'city-platform'."),
    user: str = typer.Option(..., "--user", help="The user the token acts as (its role applies)."),
    database: str | None = typer.Option(None, "--database", help=DATABASE_HELP),
) -> None:
    """Make an API token and print it once (only its SHA-256 is stored): send it as 'Authorization: Bearer TOKEN'."""
    from service.api.crud import users as user_store

    row, token = _in_session(database, lambda s: user_store.create_token(s, name=name, username=user))
    typer.echo(f"token {row.id} '{name}' acting as {user}; shown only now:", err=True)
    typer.echo(token)


@tokens_app.command("list")
def list_tokens(database: str | None = typer.Option(None, "--database", help=DATABASE_HELP)) -> None:
    """Print tokens: id, name, user, created, revoked (never the tokens themselves)."""
    from service.api.crud import users as user_store

    for token, username in _in_session(database, user_store.list_tokens):
        revoked = f"revoked {token.revoked_at.isoformat()}" if token.revoked_at else "live"
        typer.echo(f"{token.id}\t{token.name}\t{username}\t{token.created_at.isoformat()}\t{revoked}")


@tokens_app.command("revoke")
def revoke_token(
    token_id: int = typer.Argument(..., help="The token's id (from 'xiuhua tokens list')."),
    database: str | None = typer.Option(None, "--database", help=DATABASE_HELP),
) -> None:
    """Revoke a token; it stops working at once."""
    from service.api.crud import users as user_store
    from service.db import utcnow

    _in_session(database, lambda s: user_store.revoke_token(s, token_id=token_id, now=utcnow()))
    typer.echo(f"token {token_id} revoked")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            typer.echo("error: no password on stdin", err=True)
            raise typer.Exit(2)
        return password
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


def _in_session(database: str | None, work: Callable[[Session], T]) -> T:
    """Run ``work`` in one committed transaction on the (migrated) database; errors exit 2 with a message."""
    from sqlalchemy.exc import SQLAlchemyError

    from service.errors import ServiceError

    try:
        with _session(database) as session:
            result = work(session)
            session.commit()
            return result
    except ServiceError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    except SQLAlchemyError as error:
        typer.echo(f"error: database: {getattr(error, 'orig', None) or error}", err=True)
        raise typer.Exit(2) from error


@contextmanager
def _session(database: str | None) -> Iterator[Session]:
    from service.db import DatabaseError, init_db, make_engine, session_factory

    engine = make_engine(database or database_url())
    try:
        init_db(engine)
    except DatabaseError as error:
        engine.dispose()
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    try:
        with session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()
