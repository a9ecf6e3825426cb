"""Every failure is a JSON answer with a clear status; never a 500 with a trace."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from factories.api import Harness
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from service.api import ApiSettings, create_app
from service.api.deps import UserDep
from service.db import make_engine
from service.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError


def failing_router() -> APIRouter:
    router = APIRouter()

    @router.get("/test/crash")
    def crash(user: UserDep) -> None:
        raise RuntimeError("secret internals: password=hunter2")

    @router.get("/test/service/{kind}")
    def service_error(kind: str, user: UserDep) -> None:
        errors: dict[str, ServiceError] = {
            "missing": NotFound("no candidate 7"),
            "taken": Conflict("candidate 7 is claimed by ana"),
            "bad": Invalid("'ugly' is not a reason", field="reason"),
            "nope": Forbidden("only the claim holder may decide"),
        }
        raise errors[kind]

    return router


def test_an_internal_error_is_500_json_without_the_trace(
    make_harness: Callable[..., Harness], caplog: pytest.LogCaptureFixture
) -> None:
    harness = make_harness(extra_routers=(failing_router(),))
    client = harness.login("ana")
    with caplog.at_level(logging.ERROR, logger="service.api.middleware"):
        response = client.get("/test/crash")
    assert response.status_code == 500
    body = response.json()
    assert set(body) == {"detail", "error_id"}
    assert "Traceback" not in response.text and "hunter2" not in response.text and "RuntimeError" not in response.text
    assert body["error_id"] in caplog.text and "hunter2" in caplog.text  # the log has it, the client does not


@pytest.mark.parametrize(
    ("kind", "status", "detail"),
    [
        ("missing", 404, "no candidate 7"),
        ("taken", 409, "candidate 7 is claimed by ana"),
        ("bad", 422, "reason: 'ugly' is not a reason"),
        ("nope", 403, "only the claim holder may decide"),
    ],
)
def test_service_errors_become_4xx(make_harness: Callable[..., Harness], kind: str, status: int, detail: str) -> None:
    client = make_harness(extra_routers=(failing_router(),)).login("ana")
    response = client.get(f"/test/service/{kind}")
    assert response.status_code == status
    assert response.json()["detail"] == detail
    if kind == "bad":
        assert response.json()["errors"][0]["field"] == "reason"


def test_malformed_json_is_422_naming_the_body(harness: Harness) -> None:
    client = harness.login("root", "admin")
    response = client.post(
        "/api/cameras", content=b'{"key": "cam-1", "kind": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["field"] == "body" and "malformed JSON" in body["errors"][0]["message"]


def test_validation_errors_name_the_fields(harness: Harness) -> None:
    client = harness.login("root", "admin")
    response = client.post("/api/cameras", json={"key": "cam 1", "lat": 123, "colour": "red"})
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"key", "kind", "lat", "colour"}
    assert "key (body)" in response.json()["detail"]
    bad_query = client.get("/api/cameras", params={"limit": "many"})
    assert bad_query.status_code == 422 and bad_query.json()["errors"][0] == {
        "field": "limit",
        "location": "query",
        "message": "Input should be a valid integer, unable to parse string as an integer",
    }
    assert client.get("/api/cameras/abc").json()["errors"][0]["location"] == "path"


def test_a_body_over_the_limit_is_413(harness: Harness) -> None:
    client = harness.login("root", "admin")
    big = {"key": "cam-1", "kind": "fixed", "name": "x" * 70_000}
    declared = client.post("/api/cameras", json=big)
    assert declared.status_code == 413 and "65536 bytes" in declared.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"key": "cam-1", "kind": "fixed", "name": "'
        for _ in range(20):
            yield b"x" * 4096
        yield b'"}'

    streamed = client.post("/api/cameras", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413 and streamed.json()["detail"].startswith("request body is larger")


def test_unknown_paths_and_methods_are_json(harness: Harness) -> None:
    client = harness.login("ana")
    assert client.get("/api/nothing-here").json() == {"detail": "Not Found"}
    assert client.put("/api/cameras").status_code == 405


def test_health_reports_an_unreachable_database(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("a file, not a folder")
    engine = make_engine("sqlite://")
    app = create_app(ApiSettings(session_secret="s" * 32), engine=engine, evidence_root=tmp_path)
    assert TestClient(app).get("/healthz").json() == {"status": "ok"}
    broken = create_app(
        ApiSettings(session_secret="s" * 32),
        engine=create_engine(f"sqlite:///{tmp_path / 'file' / 'x.db'}"),  # a file where the folder should be
        evidence_root=tmp_path,
    )
    response = TestClient(broken).get("/healthz")
    assert response.status_code == 503 and response.json()["status"] == "unavailable"


@pytest.mark.parametrize("secret", ["short", ""])
def test_settings_refuse_a_weak_secret(secret: str) -> None:
    with pytest.raises(ValueError, match="session_secret"):
        ApiSettings(session_secret=secret)
