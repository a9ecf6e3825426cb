"""Candidate lists filtered by type, status, area, time and camera; one candidate with evidence and history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from factories.api import Harness
from factories.database import BACKENDS
from factories.review import NOW, add_sighting, make_candidates

from service.db.models import Camera


def seed(harness: Harness) -> dict[str, int]:
    with harness.session() as session:
        camera = Camera(key="cam-1", kind="fixed")
        session.add(camera)
        session.flush()
        stalls = make_candidates(session, 3, score=0.6)  # 31.2304.. 31.2306, first seen NOW-1d + 0..2 min
        [banner] = make_candidates(
            session,
            1,
            class_name="banner",
            violation_type="illegal_advertising",
            event_code="0202",
            start=NOW - timedelta(days=3),
            lat=30.0,
            lon=120.0,
            score=0.9,
        )
        stalls[2].status = "rejected"
        banner.camera_id = camera.id
        add_sighting(session, banner, track_key="b", frame_path="2026/04/28/banner.jpg")
        session.commit()
        return {
            "stall0": stalls[0].id,
            "stall1": stalls[1].id,
            "stall2": stalls[2].id,
            "banner": banner.id,
            "camera": camera.id,
        }


@pytest.mark.parametrize("backend", BACKENDS)
def test_filters(harness: Harness) -> None:
    ids = seed(harness)
    client = harness.login("ana")

    def found(**params: object) -> list[int]:
        response = client.get("/api/candidates", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["count"] >= len(body["items"])
        return [item["id"] for item in body["items"]]

    assert found() == [ids["stall2"], ids["stall1"], ids["stall0"], ids["banner"]]  # newest first
    assert found(order="oldest")[0] == ids["banner"]
    assert found(order="score")[0] == ids["banner"]
    assert found(violation_type="illegal_advertising") == [ids["banner"]]
    assert set(found(status=["open"], violation_type="street_occupation")) == {ids["stall0"], ids["stall1"]}
    assert found(status="rejected") == [ids["stall2"]]
    assert found(area="29.9,119.9,30.1,120.1") == [ids["banner"]]
    assert found(class_name="vendor_stall", camera_id=ids["camera"]) == []
    assert found(camera_id=ids["camera"]) == [ids["banner"]]
    assert found(seen_after=(NOW - timedelta(days=2)).isoformat()) == [ids["stall2"], ids["stall1"], ids["stall0"]]
    assert found(seen_before=(NOW - timedelta(days=2)).isoformat()) == [ids["banner"]]
    assert found(min_score=0.8) == [ids["banner"]]
    page = client.get("/api/candidates", params={"limit": 2, "offset": 1}).json()
    assert page["count"] == 4 and [item["id"] for item in page["items"]] == [ids["stall1"], ids["stall0"]]

    detail = client.get(f"/api/candidates/{ids['banner']}").json()
    assert detail["evidence"][0]["url"] == "/api/evidence/2026/04/28/banner.jpg" and detail["history"] == []
    assert client.get("/api/candidates/999").status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"area": "1,2,3"}, "area"),
        ({"area": "31,121,30,122"}, "area"),
        ({"area": "95,0,96,1"}, "area"),
        ({"status": "maybe"}, "status"),
        ({"seen_after": "2026-04-30T12:00:00"}, "seen_after"),
        ({"order": "random"}, "order"),
        ({"limit": 0}, "limit"),
    ],
)
def test_bad_filters_name_the_parameter(harness: Harness, params: dict[str, object], field: str) -> None:
    response = harness.login("ana").get("/api/candidates", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
