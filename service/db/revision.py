"""Write a new Alembic migration from the difference between the tables and the migrations so far.

    python -m service.db.revision "add cases.priority"

Runs against a scratch SQLite database brought to head first, so the output does not depend on any real one.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from service.db.engine import alembic_config, init_db, make_engine


def main(argv: list[str]) -> None:
    """Autogenerate a revision named by ``argv[0]``."""
    if not argv:
        raise SystemExit("usage: python -m service.db.revision MESSAGE")
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{Path(scratch) / 'scratch.db'}")
        init_db(engine)
        command.revision(alembic_config(engine), message=argv[0], autogenerate=True)
        engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
