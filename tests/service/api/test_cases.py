"""Cases, the platform's stage callback and dead letters over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from factories.api import Harness
from factories.database import BACKENDS
from factories.review import make_candidates
from fastapi.testclient import TestClient

from service.db.models import OutboxMessage

pytestmark = pytest.mark.parametrize("backend", BACKENDS)


def confirmed_case(harness: Harness, reviewer: TestClient) -> int:
    with harness.session() as session:
        [candidate] = make_candidates(session, 1)
        session.commit()
    reviewer.post("/api/review/claim", json={})
    response = reviewer.post(f"/api/review/{candidate.id}/confirm", json={"district": "静安区"})
    assert response.status_code == 200, response.text
    case_id: int = response.json()["case_id"]
    return case_id


def test_the_platform_reports_stages(harness: Harness) -> None:
    ana = harness.login("ana")
    case_id = confirmed_case(harness, ana)
    platform = harness.token("city-platform")
    report = {"case_id": case_id, "stage": "立案", "platform_case_id": "SH-0001", "at": "2026-05-01T17:00:00+08:00"}
    first = platform.post("/api/platform/callback", json={**report, "operator": "王五"})
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["applied"] is True and body["case"]["stage"] == "registered"
    assert body["case"]["platform_case_id"] == "SH-0001"
    assert body["event"]["at"] == "2026-05-01T09:00:00Z" and body["event"]["payload"]["operator"] == "王五"
    repeat = platform.post("/api/platform/callback", json=report)
    assert repeat.status_code == 200 and repeat.json()["applied"] is False
    by_number = platform.post("/api/platform/callback", json={"platform_case_id": "SH-0001", "stage": "dispatched"})
    assert by_number.json()["case"]["stage"] == "dispatched"
    late_repeat = platform.post("/api/platform/callback", json={"case_id": case_id, "stage": "accepted"})
    assert late_repeat.status_code == 200 and late_repeat.json()["applied"] is False
    assert platform.post("/api/platform/callback", json={"case_id": case_id, "stage": "作废"}).status_code == 200
    after_final = platform.post("/api/platform/callback", json={"case_id": case_id, "stage": "handled"})
    assert after_final.status_code == 409
    case = ana.get(f"/api/cases/{case_id}").json()
    assert [event["stage"] for event in case["events"]] == ["accepted", "registered", "dispatched", "void"]
    assert ana.get("/api/cases", params={"stage": "作废"}).json()["count"] == 1
    assert ana.get("/api/cases", params={"stage": "closed"}).json()["count"] == 0


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"case_id": 999, "stage": "立案"}, 404, None),
        ({"stage": "立案"}, 422, "case_id"),
        ({"case_id": 1, "stage": "finished"}, 422, "stage"),
        ({"case_id": 1, "stage": "立案", "at": "2026-05-01T17:00:00"}, 422, "at"),
        ({"case_id": "one", "stage": "立案"}, 422, "case_id"),
    ],
)
def test_bad_callbacks(harness: Harness, body: dict[str, object], status: int, field: str | None) -> None:
    response = harness.token("city-platform").post("/api/platform/callback", json=body)
    assert response.status_code == status, response.text
    if field is not None:
        assert response.json()["errors"][0]["field"] == field


def test_the_callback_is_for_machines(harness: Harness) -> None:
    ana = harness.login("ana")
    case_id = confirmed_case(harness, ana)
    response = ana.post("/api/platform/callback", json={"case_id": case_id, "stage": "立案"})
    assert response.status_code == 403 and "API token" in response.json()["detail"]


def test_dead_letters_are_visible_and_retried_by_an_admin(harness: Harness) -> None:
    ana = harness.login("ana")
    case_id = confirmed_case(harness, ana)
    with harness.session() as session:
        message = session.query(OutboxMessage).filter_by(case_id=case_id).one()
        message.state, message.attempts, message.last_error = "dead", 8, "HTTP 503 from the platform"
        session.commit()
        message_id = message.id
    dead = ana.get("/api/outbox/dead").json()
    assert dead["count"] == 1 and dead["items"][0]["last_error"] == "HTTP 503 from the platform"
    assert ana.get(f"/api/cases/{case_id}").json()["posting"]["state"] == "dead"
    assert ana.get("/api/cases", params={"posting": "dead"}).json()["count"] == 1
    assert ana.post(f"/api/outbox/{message_id}/retry").status_code == 403
    admin = harness.login("root", "admin")
    retried = admin.post(f"/api/outbox/{message_id}/retry")
    assert retried.status_code == 200 and retried.json()["state"] == "pending" and retried.json()["attempts"] == 0
    assert admin.post(f"/api/outbox/{message_id}/retry").status_code == 409
    assert admin.post("/api/outbox/999/retry").status_code == 404
    assert admin.get("/api/cases", params={"posting": "bogus"}).status_code == 422
