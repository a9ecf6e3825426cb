"""Several senders on one PostgreSQL database: rows are claimed with SKIP LOCKED, none is sent twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import httpx
from factories.posting import FakeCityPlatform, confirm_cases
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from service.db.base import utcnow
from service.db.models.posting import OutboxMessage
from service.posting.payload import case_key
from service.posting.sender import OutboxSender, SendReport
from service.posting.settings import PostingSettings

Sessions = sessionmaker[Session]


def run_in_thread(target: Callable[[], SendReport], timeout_s: float) -> SendReport:
    """Run ``target`` in a thread; fail (rather than hang the suite) if it blocks past ``timeout_s``."""
    results: list[SendReport] = []
    worker = threading.Thread(target=lambda: results.append(target()), daemon=True)
    worker.start()
    worker.join(timeout_s)
    assert not worker.is_alive(), f"the sender blocked for more than {timeout_s} s"
    return results[0]


def test_two_senders_never_send_the_same_row(postgres_sessions: Sessions, tmp_path: Path) -> None:
    with postgres_sessions() as session, session.begin():
        keys = {case_key(case) for case in confirm_cases(session, 40)}
    now = utcnow()
    start = threading.Barrier(2)
    reports: list[SendReport] = []
    with FakeCityPlatform(delay_s=0.005) as platform:
        settings = PostingSettings(url=platform.url, batch_size=3, jitter=0, evidence_dir=tmp_path)

        def work() -> None:
            with httpx.Client() as client:
                sender = OutboxSender(settings, client, postgres_sessions)
                start.wait()
                reports.append(sender.run_once(now))

        workers = [threading.Thread(target=work) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
    assert len(reports) == 2
    assert set(platform.cases) == keys
    assert platform.requests == 40, "no row was posted by both senders"
    assert max(platform.arrivals.values()) == 1
    assert sum(report.sent for report in reports) == 40 and sum(report.lost for report in reports) == 0


def test_a_row_locked_by_another_sender_is_skipped_not_waited_for(postgres_sessions: Sessions, tmp_path: Path) -> None:
    with postgres_sessions() as session, session.begin():
        confirm_cases(session, 5)
    now = utcnow()
    with FakeCityPlatform() as platform, httpx.Client() as client:
        sender = OutboxSender(PostingSettings(url=platform.url, evidence_dir=tmp_path), client, postgres_sessions)
        with postgres_sessions() as holder, holder.begin():
            # Another sender's claim in flight: two rows locked in an open transaction.
            holder.execute(text("SET LOCAL lock_timeout = '20s'"))
            locked = holder.scalars(
                select(OutboxMessage.id).order_by(OutboxMessage.id).limit(2).with_for_update()
            ).all()
            report = run_in_thread(lambda: sender.run_once(now), timeout_s=10)
            assert report == SendReport(claimed=3, sent=3)
        assert sender.run_once(now) == SendReport(claimed=2, sent=2)
    with postgres_sessions() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(locked))).all()
        assert {row.attempts for row in rows} == {1}
    assert len(platform.cases) == 5 and max(platform.arrivals.values()) == 1
