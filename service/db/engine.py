"""Engines, sessions and migrations: one place that knows how to open the database.

The URL comes from ``DATABASE_URL`` (see :func:`service.defaults.database_url`): a SQLite file in the local data
folder by default, PostgreSQL in production (``postgresql+psycopg://user@host/db``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class DatabaseError(RuntimeError):
    """The database cannot be opened or migrated; the message names the URL (without its password)."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys, WAL and a busy timeout, and its folder is created.

    Args:
        url: A SQLAlchemy URL. A bare ``postgresql://`` uses psycopg 3.
        **kwargs: Passed to :func:`sqlalchemy.create_engine`.
    """
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            folder = Path(database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(f"cannot create the database folder {folder}: {exc}") from exc
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``; objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Any:
    """An Alembic config pointing at our migrations and at ``engine``'s connection."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def init_db(engine: Engine) -> None:
    """Bring the schema up to date (``alembic upgrade head``); safe to call on every start."""
    from alembic import command

    try:
        command.upgrade(alembic_config(engine), "head")
    except Exception as exc:  # alembic/driver errors vary; name the database in one line
        raise DatabaseError(
            f"cannot migrate database {engine.url.render_as_string(hide_password=True)}: {exc}"
        ) from exc
