"""From the review queue to the city platform: N confirmations → exactly N cases received, through an outage."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from factories.database import BACKENDS, created_engine
from factories.posting import FakeCityPlatform, add_candidate
from sqlalchemy import select

from service.db import session_factory, utcnow
from service.db.models import Case, OutboxMessage, User
from service.posting.sender import OutboxSender
from service.posting.settings import PostingSettings
from service.review import claim_next, confirm, reject


@pytest.mark.parametrize("backend", BACKENDS)
def test_confirmed_items_reach_the_platform_once_each(backend: str, tmp_path: Path) -> None:
    with created_engine(backend, tmp_path) as engine:
        sessions = session_factory(engine)
        with sessions() as session, session.begin():
            reviewer = User(username="ana", password_hash="x", role="reviewer")
            session.add(reviewer)
            for index in range(7):
                add_candidate(session, lat=31.23 + index * 1e-3).status = "open"
        confirmed = []
        for turn in range(7):
            with sessions() as session, session.begin():
                item = claim_next(session, user_id=reviewer.id)
                assert item is not None
                if turn == 3:
                    reject(session, candidate_id=item.id, user_id=reviewer.id, reason="false_detection")
                else:
                    confirm(session, candidate_id=item.id, user_id=reviewer.id)
                    confirmed.append(item.id)
        outage = ["503", "drop", "500", "503", "drop"]
        with FakeCityPlatform(outage) as platform, httpx.Client() as client:
            settings = PostingSettings(
                url=platform.url, timeout_s=2.0, backoff_base_s=1.0, backoff_cap_s=4.0, jitter=0.0, max_attempts=10
            )
            sender = OutboxSender(settings, client, sessions)
            now = utcnow()
            for _ in range(8):
                sender.run_once(now)
                now += timedelta(seconds=5)
        with sessions() as session:
            cases = list(session.scalars(select(Case)))
            rows = list(session.scalars(select(OutboxMessage)))
    assert len(confirmed) == 6 and sorted(c.candidate_id for c in cases) == sorted(confirmed)
    assert len(platform.cases) == 6  # one per confirmation, none for the rejected item
    assert all(count == 1 for count in platform.accepted.values())  # none twice
    cases_by_id = {case.id: case for case in cases}
    received = {payload["case_id"] for payload in platform.cases.values()}
    assert received == set(cases_by_id)
    assert {payload["minor_type_code"] for payload in platform.cases.values()} == {"0501"}
    assert all(payload["event_source"] == "41" for payload in platform.cases.values())
    assert all(row.state == "sent" for row in rows)
