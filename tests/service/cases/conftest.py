"""One database per backend for these tests, emptied after each test (see :mod:`factories.module_database`)."""

from __future__ import annotations

from factories.module_database import session, sessions, shared_engine

__all__ = ["session", "sessions", "shared_engine"]
