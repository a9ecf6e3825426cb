"""Alembic environment: runs migrations on the engine handed over in the config (see service.db.engine)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

import service.db.models  # noqa: F401  (registers every table on Base.metadata)
from service.db.base import Base

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations through service.db.engine.init_db, which passes the engine")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
