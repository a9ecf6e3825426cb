"""``xiuhua users``, ``xiuhua tokens`` and ``xiuhua serve`` (a real uvicorn server on a free port)."""

from __future__ import annotations

import http.client
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
import uvicorn
from typer.testing import CliRunner

from service.api.crud import users as user_store
from service.cli import serve as serve_module
from service.cli import users as users_module
from service.db import make_engine, session_factory
from service.db.models import User

runner = CliRunner()


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    users_module.register(app)
    serve_module.register(app)
    return app


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_users_add_list_and_refusals(cli: typer.Typer, database: str) -> None:
    added = runner.invoke(cli, ["users", "add", "ana", "--password-stdin", "--database", database], input="s3cret pw\n")
    assert added.exit_code == 0, added.output
    assert "user ana (reviewer) added" in added.output
    prompted = runner.invoke(
        cli, ["users", "add", "root", "--role", "admin", "--database", database], input="long password\nlong password\n"
    )
    assert prompted.exit_code == 0, prompted.output
    listed = runner.invoke(cli, ["users", "list", "--database", database])
    assert listed.output.splitlines() == ["ana\treviewer\tactive", "root\tadmin\tactive"]
    for args, stdin, message in [
        (["users", "add", "ana", "--password-stdin"], "another pw\n", "user 'ana' already exists"),
        (["users", "add", "bo", "--password-stdin"], "short\n", "password: must be at least 8 characters"),
        (["users", "add", "bo", "--role", "boss", "--password-stdin"], "long enough\n", "role: 'boss' is not one of"),
        (["users", "add", "bo", "--password-stdin"], "\n", "no password on stdin"),
        (["users", "set-password", "ghost", "--password-stdin"], "long enough\n", "no user 'ghost'"),
    ]:
        result = runner.invoke(cli, [*args, "--database", database], input=stdin)
        assert result.exit_code == 2 and message in result.output, (args, result.output)
    disabled = runner.invoke(cli, ["users", "disable", "ana", "--database", database])
    assert disabled.exit_code == 0
    assert "ana\treviewer\tdisabled" in runner.invoke(cli, ["users", "list", "--database", database]).output


def test_tokens_are_printed_once_and_work(cli: typer.Typer, database: str, tmp_path: Path) -> None:
    runner.invoke(cli, ["users", "add", "machine", "--password-stdin", "--database", database], input="long enough\n")
    created = runner.invoke(cli, ["tokens", "create", "city-platform", "--user", "machine", "--database", database])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("xh_")
    listed = runner.invoke(cli, ["tokens", "list", "--database", database]).output
    assert "city-platform\tmachine" in listed and token not in listed

    from fastapi.testclient import TestClient

    engine = make_engine(database)
    app = serve_module.build_app(engine=engine, data=tmp_path / "data")
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    assert client.get("/api/auth/me").json()["username"] == "machine"
    assert runner.invoke(cli, ["tokens", "revoke", "1", "--database", database]).exit_code == 0
    assert client.get("/api/auth/me").status_code == 401
    assert runner.invoke(cli, ["tokens", "revoke", "9", "--database", database]).exit_code == 2
    missing = runner.invoke(cli, ["tokens", "create", "x", "--user", "ghost", "--database", database])
    assert missing.exit_code == 2 and "no user 'ghost'" in missing.output
    engine.dispose()


def test_session_secret_is_kept_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(serve_module.SECRET_ENV, raising=False)
    first = serve_module.session_secret(tmp_path)
    path = tmp_path / serve_module.SECRET_FILE
    assert len(first) >= 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert serve_module.session_secret(tmp_path) == first
    monkeypatch.setenv(serve_module.SECRET_ENV, "e" * 40)
    assert serve_module.session_secret(tmp_path) == "e" * 40


def test_serve_refuses_a_bad_database(cli: typer.Typer, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    result = runner.invoke(
        cli, ["serve", "--database", f"sqlite:///{tmp_path / 'file' / 'x.db'}", "--data", str(tmp_path)]
    )
    assert result.exit_code == 2 and "file" in result.output


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, Path, str]]:
    """``xiuhua serve``'s app under a real uvicorn on a free port, and an API token for it."""
    monkeypatch.delenv(serve_module.SECRET_ENV, raising=False)
    data = tmp_path / "data"
    engine = make_engine(f"sqlite:///{tmp_path / 'serve.db'}")
    app = serve_module.build_app(engine=engine, data=data)
    with session_factory(engine)() as session:
        session.add(User(username="scanner", password_hash="unused", role="reviewer"))
        session.flush()
        _, token = user_store.create_token(session, name="scanner", username="scanner")
        session.commit()
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield port, data, token
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()


def test_a_real_server_answers_and_refuses_literal_escapes(server: tuple[int, Path, str]) -> None:
    port, data, token = server
    (data / "secret.txt").write_text("database password")
    (data / "evidence" / "frame.jpg").write_bytes(b"\xff\xd8\xff")

    def get(path: str, *, auth: bool = True) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Authorization": f"Bearer {token}"} if auth else {}
        connection.request("GET", path, headers=headers)  # sent as written: no '..' normalisation
        response = connection.getresponse()
        body = response.read()
        connection.close()
        return response.status, body

    assert get("/healthz", auth=False) == (200, b'{"status":"ok"}')
    assert get("/api/cameras", auth=False)[0] == 401
    assert get("/api/evidence/frame.jpg") == (200, b"\xff\xd8\xff")
    for path in ("/api/evidence/../secret.txt", "/api/evidence/./../secret.txt", "/api/evidence/%2e%2e/secret.txt"):
        status, body = get(path)
        assert status == 400 and b"database password" not in body, (path, status, body)
    assert (data / "evidence").is_dir() and (data / serve_module.SECRET_FILE).is_file()
