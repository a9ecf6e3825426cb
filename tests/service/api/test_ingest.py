"""POST /api/ingest: the JSON lines of ``xiuhua ingest`` over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from factories.api import Harness
from factories.database import BACKENDS

NDJSON = {"Content-Type": "application/x-ndjson"}


def line(**fields: Any) -> str:
    detection = {
        "source": "city-ai-7",
        "camera": None,
        "time": "2026-05-01T20:31:07+08:00",
        "lat": 30.27,
        "lon": 120.15,
        "class": "vendor_stall",
        "confidence": 0.8,
        "box": [10, 20, 200, 240],
        "track_id": "4711",
    }
    return json.dumps(detection | fields)


@pytest.mark.parametrize("backend", BACKENDS)
def test_detections_become_candidates(harness: Harness) -> None:
    machine = harness.token("city-ai")
    body = "\n".join(
        [
            line(),
            line(time="2026-05-01T20:36:07+08:00", confidence=0.9),
            "{not json",
            line(**{"class": "unicorn"}),
            "",
            line(track_id=None, lat=30.3, lon=120.2, image="/etc/shadow"),
        ]
    )
    response = machine.post("/api/ingest", content=body.encode(), headers=NDJSON)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["lines"], report["bad"], report["observations"], report["opened"]) == (5, 2, 2, 2)
    assert [(p["line"], p["skipped"]) for p in report["problems"]] == [(3, True), (4, True), (6, False)]
    assert "class" in report["problems"][1]["message"] and "not accepted over HTTP" in report["problems"][2]["message"]
    candidates = machine.get("/api/candidates").json()
    assert candidates["count"] == 2 and all(item["evidence"] == [] for item in candidates["items"])
    again = machine.post("/api/ingest", content=body.encode(), headers=NDJSON).json()
    assert again["duplicates"] == 2 and again["opened"] == 0


@pytest.mark.parametrize(
    ("body", "headers", "status", "detail"),
    [
        ("{not json\n[]", NDJSON, 422, None),
        ("\n\n", NDJSON, 422, "body: no detection lines"),
        (line(), {"Content-Type": "application/json"}, 415, "send JSON lines as application/x-ndjson"),
        (b"\xff\xfe" + b"x" * 10, NDJSON, 422, "body: not UTF-8 at byte 0"),
        ("x" * 200_000, NDJSON, 413, "larger than the limit of 131072 bytes"),
    ],
)
def test_bad_bodies(
    harness: Harness, body: str | bytes, headers: dict[str, str], status: int, detail: str | None
) -> None:
    content = body.encode() if isinstance(body, str) else body
    response = harness.login("ana").post("/api/ingest", content=content, headers=headers)
    assert response.status_code == status, response.text
    if detail is not None:
        assert detail in response.json()["detail"]
    else:
        assert response.json()["bad"] == 2 and response.json()["problems"][0]["line"] == 1
