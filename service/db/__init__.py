"""The project's database: SQLAlchemy 2 tables, Alembic migrations, engines and sessions.

engine = make_engine(database_url())
init_db(engine)                 # alembic upgrade head
with session_factory(engine)() as session: ...
"""

from service.db.base import Base, UTCDateTime, utcnow
from service.db.engine import DatabaseError, init_db, make_engine, session_factory

__all__ = ["Base", "DatabaseError", "UTCDateTime", "init_db", "make_engine", "session_factory", "utcnow"]
