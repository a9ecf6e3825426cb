"""The review queue over HTTP, on SQLite and PostgreSQL: claims, decisions, undo and bulk actions."""

from __future__ import annotations

import pytest
from factories.api import Harness
from factories.database import BACKENDS
from factories.review import add_sighting, make_candidates

pytestmark = pytest.mark.parametrize("backend", BACKENDS)


def seed(harness: Harness, count: int) -> list[int]:
    """``count`` open candidates, oldest first, each with one sighting and a frame."""
    with harness.session() as session:
        candidates = make_candidates(session, count)
        for index, candidate in enumerate(candidates):
            add_sighting(session, candidate, track_key=f"t{index}", frame_path=f"2026/04/30/frame-{index}.jpg")
        session.commit()
        return [candidate.id for candidate in candidates]


def test_claims_are_exclusive_and_expire(harness: Harness) -> None:
    first, second, third = seed(harness, 3)
    ana, ben = harness.login("ana"), harness.login("ben")
    claimed = ana.post("/api/review/claim", json={}).json()
    assert claimed["candidate"]["id"] == first and claimed["remaining"] == 2
    assert claimed["candidate"]["evidence"][0]["url"] == "/api/evidence/2026/04/30/frame-0.jpg"
    assert [entry["action"] for entry in claimed["candidate"]["history"]] == ["claim"]
    assert ana.post("/api/review/claim", json={}).json()["candidate"]["id"] == first  # a reload keeps the item
    assert ben.post("/api/review/claim", json={"order": "newest"}).json()["candidate"]["id"] == third
    assert ana.get("/api/review/current").json()["candidate"]["id"] == first

    harness.clock.advance(seconds=301)  # ana's lease ran out
    assert ana.get("/api/review/current").json()["candidate"] is None
    cy = harness.login("cy")
    assert cy.post("/api/review/claim", json={}).json()["candidate"]["id"] == first
    assert cy.post(f"/api/review/{first}/release").json()["claimed_by_id"] is None
    assert cy.post("/api/review/claim", json={"violation_types": ["illegal_construction"]}).json() == {
        "candidate": None,
        "remaining": 0,
    }
    assert second not in (first, third)


def test_confirm_makes_a_case_queued_for_posting(harness: Harness) -> None:
    [candidate_id] = seed(harness, 1)
    ana = harness.login("ana")
    ana.post("/api/review/claim", json={})
    confirmed = ana.post(f"/api/review/{candidate_id}/confirm", json={"district": "黄浦区", "address": "南京东路 1 号"})
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["candidate"]["status"] == "confirmed" and body["candidate"]["history"][-1]["action"] == "confirm"
    case = ana.get(f"/api/cases/{body['case_id']}").json()
    assert case["event_code"] == "0501" and case["district"] == "黄浦区" and case["stage"] == "accepted"
    assert case["stage_name"] == "受理" and [event["stage"] for event in case["events"]] == ["accepted"]
    assert case["posting"]["state"] == "pending" and case["posting"]["messages"][0]["target"] == "http"
    assert ana.get("/api/cases", params={"posting": "pending"}).json()["count"] == 1
    again = ana.post(f"/api/review/{candidate_id}/confirm", json={})
    assert again.status_code == 409 and "confirmed" in again.json()["detail"]


def test_decisions_check_the_claim_and_the_values(harness: Harness) -> None:
    first, second, third = seed(harness, 3)
    ana, ben = harness.login("ana"), harness.login("ben")
    assert ana.post("/api/review/claim", json={}).json()["candidate"]["id"] == first
    taken = ben.post(f"/api/review/{first}/reject", json={"reason": "duplicate"})
    assert taken.status_code == 409
    bad_reason = ana.post(f"/api/review/{first}/reject", json={"reason": "ugly"})
    assert bad_reason.status_code == 422 and bad_reason.json()["errors"][0]["field"] == "reason"
    bad_class = ana.post(f"/api/review/{first}/relabel", json={"class_name": "unicorn"})
    assert bad_class.status_code == 422 and bad_class.json()["errors"][0]["field"] == "class_name"
    relabelled = ana.post(f"/api/review/{first}/relabel", json={"class_name": "goods_outside_shop"})
    assert relabelled.json()["candidate"]["class_name"] == "goods_outside_shop"
    assert relabelled.json()["candidate"]["event_code"] == "0504"
    rejected = ana.post(f"/api/review/{first}/reject", json={"reason": "permitted", "note": "licensed"})
    assert rejected.json()["candidate"]["status"] == "rejected"
    merged = ben.post(f"/api/review/{second}/merge", json={"target_id": third})
    assert merged.status_code == 200 and merged.json()["candidate"]["id"] == third
    assert ben.get(f"/api/candidates/{second}").json()["merged_into_id"] == third
    assert ana.post("/api/review/999/confirm", json={}).status_code == 404


def test_undo_within_the_window(harness: Harness) -> None:
    first, _ = seed(harness, 2)
    ana = harness.login("ana")
    ana.post("/api/review/claim", json={})
    ana.post(f"/api/review/{first}/reject", json={"reason": "false_detection"})
    harness.clock.advance(seconds=10)
    undone = ana.post("/api/review/undo", json={})
    assert undone.status_code == 200
    candidate = undone.json()["candidate"]
    assert candidate["status"] == "open" and candidate["claimed_by_id"] is not None
    assert [entry["action"] for entry in candidate["history"]][-2:] == ["reject", "undo"]
    ana.post(f"/api/review/{first}/reject", json={"reason": "other", "note": "blurred"})
    action_id = ana.get(f"/api/candidates/{first}").json()["history"][-1]["id"]
    harness.clock.advance(seconds=120)
    late = ana.post("/api/review/undo", json={"action_id": action_id})
    assert late.status_code == 409 and "undo is possible for 60 s" in late.json()["detail"]
    assert ana.post("/api/review/undo", json={}).status_code == 404


def test_bulk_reports_each_item(harness: Harness) -> None:
    first, second, third = seed(harness, 3)
    ana, ben = harness.login("ana"), harness.login("ben")
    ben.post("/api/review/claim", json={})  # ben holds the first
    result = ana.post(
        "/api/review/bulk", json={"action": "reject", "candidate_ids": [first, second, 999], "reason": "duplicate"}
    )
    assert result.status_code == 200, result.text
    body = result.json()
    assert body["succeeded"] == [second]
    assert [(failure["candidate_id"], failure["status"]) for failure in body["failed"]] == [(first, 409), (999, 404)]
    confirmed = ana.post(
        "/api/review/bulk", json={"action": "confirm", "candidate_ids": [third], "fields": {"grid": "G7"}}
    )
    assert confirmed.json()["succeeded"] == [third] and len(confirmed.json()["case_ids"]) == 1
    no_reason = ana.post("/api/review/bulk", json={"action": "reject", "candidate_ids": [first]})
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    too_many = ana.post(
        "/api/review/bulk", json={"action": "reject", "candidate_ids": list(range(501)), "reason": "other"}
    )
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "candidate_ids"
