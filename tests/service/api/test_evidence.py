"""Evidence files are served to logged-in users, and no path reaches a file outside the evidence folder."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import anyio
import pytest
from factories.api import Harness
from factories.review import add_sighting, make_candidates
from fastapi.testclient import TestClient


@pytest.fixture
def files(harness: Harness) -> Harness:
    frame = harness.evidence_root / "2026" / "04" / "30" / "frame-1.jpg"
    frame.parent.mkdir(parents=True)
    frame.write_bytes(b"\xff\xd8\xff evidence")
    (harness.data_root / "secret.txt").write_text("database password")
    (harness.evidence_root / "escape.jpg").symlink_to(harness.data_root / "secret.txt")
    return harness


def test_serves_evidence_to_logged_in_users(files: Harness) -> None:
    client = files.login("ana")
    response = client.get("/api/evidence/2026/04/30/frame-1.jpg")
    assert response.status_code == 200 and response.content == b"\xff\xd8\xff evidence"
    assert response.headers["content-type"] == "image/jpeg" and response.headers["x-content-type-options"] == "nosniff"
    assert files.client().get("/api/evidence/2026/04/30/frame-1.jpg").status_code == 401
    missing = client.get("/api/evidence/2026/04/30/frame-2.jpg")
    assert missing.status_code == 404 and "frame-2.jpg" in missing.json()["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/evidence/%2e%2e/secret.txt",
        "/api/evidence/%2E%2E/secret.txt",
        "/api/evidence/..%2fsecret.txt",
        "/api/evidence/..%2Fsecret.txt",
        "/api/evidence/2026/%2e%2e/%2e%2e/secret.txt",
        "/api/evidence//etc/passwd",
        "/api/evidence/%2fetc%2fpasswd",
        "/api/evidence/..%5csecret.txt",
        "/api/evidence/2026/%00.jpg",
        "/api/evidence/escape.jpg",
    ],
)
def test_encoded_escapes_are_refused(files: Harness, url: str) -> None:
    response = files.login("ana").get(url)
    assert response.status_code == 400, (url, response.status_code, response.text)
    assert response.json()["errors"][0]["field"] == "path"
    assert "database password" not in response.text


@pytest.mark.parametrize("raw_path", [b"/api/evidence/../secret.txt", b"/api/evidence/2026/../../secret.txt"])
def test_literal_dot_dot_is_refused(files: Harness, raw_path: bytes) -> None:
    """HTTP clients normalise ``..`` away, servers such as uvicorn do not: send it straight to the app."""
    client = files.login("ana")
    status, body = raw_get(files, raw_path, cookie=client.cookies["xiuhua_session"])
    assert status == 400 and b"database password" not in body


def raw_get(harness: Harness, raw_path: bytes, *, cookie: str) -> tuple[int, bytes]:
    messages: list[MutableMapping[str, Any]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": raw_path.decode(),
        "raw_path": raw_path,
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"cookie", f"xiuhua_session={cookie}".encode())],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
        "state": {},
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        messages.append(message)

    async def call() -> None:
        await harness.app(scope, receive, send)

    anyio.run(call)
    status = next(m["status"] for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return status, body


def test_reviewers_reach_evidence_from_a_candidate(files: Harness) -> None:
    with files.session() as session:
        [candidate] = make_candidates(session, 1)
        add_sighting(session, candidate, track_key="t", frame_path="2026/04/30/frame-1.jpg")
        session.commit()
    client: TestClient = files.login("ana")
    url = client.get(f"/api/candidates/{candidate.id}").json()["evidence"][0]["url"]
    assert client.get(url).content == b"\xff\xd8\xff evidence"


def test_evidence_outside_the_folder_has_no_url(files: Harness) -> None:
    with files.session() as session:
        [candidate] = make_candidates(session, 1)
        add_sighting(session, candidate, track_key="t", frame_path="/srv/city-ai/frames/4711.jpg")
        session.commit()
    [evidence] = files.login("ana").get(f"/api/candidates/{candidate.id}").json()["evidence"]
    assert evidence["path"] == "/srv/city-ai/frames/4711.jpg" and evidence["url"] is None
