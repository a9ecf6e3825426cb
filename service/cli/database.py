"""Opening the database for a command: ``--database`` or ``$DATABASE_URL``, migrated, errors as one line + exit 2."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

DATABASE_HELP = "Database URL (default: $DATABASE_URL, else data/xiuhua.db)."


@contextmanager
def opened_database(database: str | None) -> Iterator[sessionmaker[Session]]:
    """Sessions on the migrated database; service and database errors end the command with one line and exit 2.

    Args:
        database: A SQLAlchemy URL, or ``None`` for :func:`service.defaults.database_url`.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from service.db import DatabaseError, init_db, make_engine, session_factory
    from service.defaults import database_url
    from service.errors import ServiceError

    try:
        engine = make_engine(database or database_url())
    except (DatabaseError, SQLAlchemyError, ValueError) as error:  # a malformed URL, a folder that cannot be made
        fail(f"database {database or database_url()}: {error}")
    try:
        init_db(engine)
        yield session_factory(engine)
    except ServiceError as error:
        fail(str(error))
    except DatabaseError as error:
        fail(str(error))
    except SQLAlchemyError as error:
        where = engine.url.render_as_string(hide_password=True)
        fail(f"database {where}: {getattr(error, 'orig', None) or error}")
    finally:
        engine.dispose()


def fail(message: str) -> NoReturn:
    """Print ``error: message`` to stderr and end the command with exit code 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)
