"""The sender against a real local HTTP server playing the city platform: outages, lost answers, dead letters."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from factories.posting import FakeCityPlatform, confirm_cases
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.db.base import utcnow
from service.db.models.posting import OutboxMessage
from service.posting.claims import claim_due, mark_sent
from service.posting.outbox import dead_letters, posting_state, retry_dead
from service.posting.payload import case_key
from service.posting.sender import OutboxSender, SendReport, backoff_delay_s
from service.posting.settings import PostingSettings

Sessions = sessionmaker[Session]


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as http:
        yield http


def make_settings(url: str, tmp_path: Path, **overrides: object) -> PostingSettings:
    base = PostingSettings(
        url=url,
        timeout_s=2.0,
        backoff_base_s=1.0,
        backoff_cap_s=8.0,
        jitter=0.0,
        max_attempts=12,
        batch_size=5,
        evidence_dir=tmp_path,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def confirm(sessions: Sessions, count: int) -> list[str]:
    """Confirm ``count`` cases; return their idempotency keys."""
    with sessions() as session, session.begin():
        return [case_key(case) for case in confirm_cases(session, count)]


def run_rounds(sender: OutboxSender, rounds: int, *, step_s: float = 10.0) -> tuple[SendReport, datetime]:
    """Call ``run_once`` ``rounds`` times with a clock moving ``step_s`` (past the backoff cap) per round."""
    now = utcnow()
    total = SendReport()
    for _ in range(rounds):
        report = sender.run_once(now)
        total = SendReport(*(a + b for a, b in zip(vars(total).values(), vars(report).values(), strict=True)))
        now += timedelta(seconds=step_s)
    return total, now


def outbox_rows(sessions: Sessions) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_outage_then_every_case_arrives_exactly_once(sessions: Sessions, client: httpx.Client, tmp_path: Path) -> None:
    keys = confirm(sessions, 12)
    outage = ["503", "drop", "500", "drop", "503", "slow", "503"]
    with FakeCityPlatform(outage, slow_s=0.3) as platform:
        sender = OutboxSender(make_settings(platform.url, tmp_path, timeout_s=0.1), client, sessions)
        total, _ = run_rounds(sender, 6)
    assert set(platform.cases) == set(keys)
    assert len(platform.cases) == 12
    # The "slow" request was accepted but its answer came too late: its key arrived twice; every other once.
    slow_key = [key for key, count in platform.accepted.items() if count > 1]
    assert len(slow_key) == 1 and platform.accepted[slow_key[0]] == 2
    assert sum(platform.accepted.values()) == 13
    assert total.sent == 12 and total.dead == 0 and total.retried == len(outage)
    assert all(
        row.state == "sent" and row.sent_at is not None and row.last_error is None for row in outbox_rows(sessions)
    )
    assert all(h["Idempotency-Key"].startswith("xiuhua-case-") for h in platform.headers)


@pytest.mark.parametrize("repeat_status", [200, 409])
def test_lost_answers_are_resent_with_the_same_key_and_deduplicated(
    sqlite_sessions: Sessions, client: httpx.Client, tmp_path: Path, repeat_status: int
) -> None:
    keys = confirm(sqlite_sessions, 5)
    with FakeCityPlatform(["lose", "lose", "lose"], repeat_status=repeat_status) as platform:
        sender = OutboxSender(make_settings(platform.url, tmp_path), client, sqlite_sessions)
        total, _ = run_rounds(sender, 3)
    assert len(platform.cases) == 5 and set(platform.cases) == set(keys)
    assert sorted(platform.accepted.values()) == [1, 1, 2, 2, 2]
    for key in platform.cases:
        bodies = [body for received_key, body in platform.received if received_key == key]
        assert all(body == bodies[0] for body in bodies), "a resend must carry the same content"
    assert total.sent == 5 and total.retried == 3
    with sqlite_sessions() as session:
        assert {posting_state(session, case_id=row.case_id).state for row in outbox_rows(sqlite_sessions)} == {"sent"}


def test_a_platform_that_keeps_refusing_dead_letters_after_max_attempts(
    sessions: Sessions, client: httpx.Client, tmp_path: Path
) -> None:
    confirm(sessions, 3)
    with FakeCityPlatform(then="503") as platform:
        sender = OutboxSender(make_settings(platform.url, tmp_path, max_attempts=4), client, sessions)
        total, now = run_rounds(sender, 6)
        assert platform.requests == 3 * 4
        assert total.dead == 3 and total.retried == 3 * 3 and total.sent == 0
        with sessions() as session:
            letters = dead_letters(session)
            states = {posting_state(session, case_id=letter.case_id).state for letter in letters}
        assert [letter.id for letter in letters] == sorted((letter.id for letter in letters), reverse=True)
        assert len(letters) == 3 and states == {"dead"}
        for letter in letters:
            assert letter.attempts == 4 and letter.kind == "case" and letter.target == "http"
            assert letter.last_error is not None
            assert "gave up after 4 attempts" in letter.last_error and "HTTP 503" in letter.last_error
        # An admin puts one back once the platform is fixed; it is sent on the next round, the others stay dead.
        platform.then = "ok"
        with sessions() as session, session.begin():
            retried = retry_dead(session, message_id=letters[0].id, now=now)
        assert retried.state == "pending" and retried.attempts == 0
        report = sender.run_once(now)
    assert report == SendReport(claimed=1, sent=1)
    assert len(platform.cases) == 1
    with sessions() as session:
        assert len(dead_letters(session)) == 2


def test_a_request_the_platform_rejects_is_dead_at_once(
    sqlite_sessions: Sessions, client: httpx.Client, tmp_path: Path
) -> None:
    confirm(sqlite_sessions, 1)
    with FakeCityPlatform(then="400") as platform:
        sender = OutboxSender(make_settings(platform.url, tmp_path), client, sqlite_sessions)
        total, _ = run_rounds(sender, 3)
    assert platform.requests == 1
    assert total == SendReport(claimed=1, dead=1)
    (row,) = outbox_rows(sqlite_sessions)
    assert row.state == "dead" and row.attempts == 1
    assert row.last_error is not None and row.last_error.startswith("HTTP 400 from http://127.0.0.1:")


def test_backoff_doubles_up_to_the_cap_then_dead_letters(
    sqlite_sessions: Sessions, client: httpx.Client, tmp_path: Path
) -> None:
    confirm(sqlite_sessions, 1)
    delays = []
    with FakeCityPlatform(then="503") as platform:
        sender = OutboxSender(make_settings(platform.url, tmp_path, max_attempts=7), client, sqlite_sessions)
        now = utcnow()
        sender.run_once(now)
        for _ in range(7):
            (row,) = outbox_rows(sqlite_sessions)
            if row.state == "dead":
                break
            delays.append((row.next_attempt_at - now).total_seconds())
            now = row.next_attempt_at
            assert sender.run_once(now - timedelta(milliseconds=1)).claimed == 0, "not due before next_attempt_at"
            sender.run_once(now)
    assert delays == [1, 2, 4, 8, 8, 8]
    assert row.state == "dead" and row.attempts == 7 and platform.requests == 7


def test_retry_after_is_honoured_up_to_the_cap(sqlite_sessions: Sessions, client: httpx.Client, tmp_path: Path) -> None:
    confirm(sqlite_sessions, 1)
    with FakeCityPlatform(["429"], retry_after="30") as platform:
        sender = OutboxSender(make_settings(platform.url, tmp_path, backoff_cap_s=60), client, sqlite_sessions)
        now = utcnow()
        assert sender.run_once(now).retried == 1
        (row,) = outbox_rows(sqlite_sessions)
        assert row.next_attempt_at == now + timedelta(seconds=30)
        assert sender.run_once(now + timedelta(seconds=29)).claimed == 0
        assert sender.run_once(now + timedelta(seconds=30)).sent == 1


@pytest.mark.parametrize("jitter", [0.25, 0.5])
def test_jitter_only_shortens_delays_within_its_fraction(jitter: float, tmp_path: Path) -> None:
    settings = make_settings("http://unused", tmp_path, jitter=jitter, backoff_base_s=2, backoff_cap_s=100)
    rng = random.Random(7)
    for attempts, full in [(1, 2), (2, 4), (3, 8), (6, 64), (7, 100), (200, 100)]:
        samples = [backoff_delay_s(attempts, settings, rng) for _ in range(200)]
        assert all(full * (1 - jitter) <= sample <= full for sample in samples)
        assert max(samples) - min(samples) > full * jitter * 0.5, "jitter spreads the retries"


def test_a_crashed_senders_claim_comes_back_after_the_lease(
    sqlite_sessions: Sessions, client: httpx.Client, tmp_path: Path
) -> None:
    confirm(sqlite_sessions, 1)
    now = utcnow()
    with sqlite_sessions() as session, session.begin():  # a sender claims the row and dies before sending
        (lost_claim,) = claim_due(session, now=now, targets=("http",), limit=10, lease_s=60)
    with FakeCityPlatform() as platform:
        sender = OutboxSender(make_settings(platform.url, tmp_path, claim_lease_s=60), client, sqlite_sessions)
        assert sender.run_once(now + timedelta(seconds=59)).claimed == 0
        assert sender.run_once(now + timedelta(seconds=60)) == SendReport(claimed=1, sent=1)
    (row,) = outbox_rows(sqlite_sessions)
    assert row.attempts == 2 and row.state == "sent"
    with sqlite_sessions() as session, session.begin():  # the first sender's late answer must not overwrite
        assert not mark_sent(session, claim=lost_claim, now=now)


def test_http_rows_wait_when_no_url_is_configured(
    sqlite_sessions: Sessions, client: httpx.Client, tmp_path: Path
) -> None:
    confirm(sqlite_sessions, 2)
    sender = OutboxSender(PostingSettings(url=None, evidence_dir=tmp_path), client, sqlite_sessions)
    assert sender.run_once() == SendReport()
    assert {row.state for row in outbox_rows(sqlite_sessions)} == {"pending"}
    assert {row.attempts for row in outbox_rows(sqlite_sessions)} == {0}


def test_retry_dead_refuses_unknown_and_live_messages(sqlite_sessions: Sessions) -> None:
    from service.posting.errors import MessageNotDead, MessageNotFound

    confirm(sqlite_sessions, 1)
    (row,) = outbox_rows(sqlite_sessions)
    with sqlite_sessions() as session:
        with pytest.raises(MessageNotFound, match="999"):
            retry_dead(session, message_id=999)
        with pytest.raises(MessageNotDead, match="pending"):
            retry_dead(session, message_id=row.id)
