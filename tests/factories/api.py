"""The HTTP API under test: an app on a throw-away database, with helpers to make users, logins and tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from service.api.context import AppContext
from service.api.crud import users as user_store
from service.api.deps import SESSION_COOKIE
from service.db import session_factory
from service.db.models import User

PASSWORD = "correct horse battery"
SECRET = "test-secret-" + "x" * 32
# Small limits so size tests stay fast.
TEST_LIMITS = {
    "max_request_bytes": 64 * 1024,
    "max_image_bytes": 256 * 1024,
    "max_clip_bytes": 1024 * 1024,
    "max_ingest_bytes": 128 * 1024,
}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Harness:
    """An app, its folders and database, and helpers to make people and machines that call it."""

    app: FastAPI
    engine: Engine
    data_root: Path
    evidence_root: Path
    clock: Clock
    password_hash: str
    clients: list[TestClient] = field(default_factory=list)

    def session(self) -> Session:
        return session_factory(self.engine)()

    def client(self, **kwargs: Any) -> TestClient:
        client = TestClient(self.app, **kwargs)
        self.clients.append(client)
        return client

    def add_user(self, username: str, role: str = "reviewer", *, active: bool = True) -> int:
        with self.session() as session:
            user = User(username=username, password_hash=self.password_hash, role=role, active=active)
            session.add(user)
            session.commit()
            return user.id

    def login(self, username: str, role: str = "reviewer", *, csrf: bool = True) -> TestClient:
        """A client logged in as a new user ``username`` (CSRF header preset unless ``csrf=False``).

        The cookie is minted with the app's signer, as the login endpoint would: argon2 costs half a second on a busy
        machine, so only the tests of logging in go through the password check (:meth:`login_with_password`).
        """
        user_id = self.add_user(username, role)
        context: AppContext = self.app.state.context
        cookie, claims = context.signer.issue(user_id=user_id, password_hash=self.password_hash, now=self.clock())
        client = self.client(cookies={SESSION_COOKIE: cookie})
        if csrf:
            client.headers["X-CSRF-Token"] = context.signer.csrf_token(claims)
        return client

    def login_with_password(self, username: str, role: str = "reviewer") -> TestClient:
        """A client logged in through ``POST /api/auth/login`` (CSRF header preset)."""
        self.add_user(username, role)
        client = self.client()
        response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        return client

    def token(self, username: str, role: str = "reviewer", name: str = "machine") -> TestClient:
        """A client authenticating with a bearer token of a new user ``username``."""
        self.add_user(username, role)
        with self.session() as session:
            _, token = user_store.create_token(session, name=name, username=username)
            session.commit()
        return self.client(headers={"Authorization": f"Bearer {token}"})
