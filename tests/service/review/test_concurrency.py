"""Reviewers claiming at the same time, each in a session and thread of their own.

Every item is claimed exactly once, none is lost, and claims left to run out come back to the queue. Times are
logical (``now`` passed in): reviewers who walk away claim "earlier" than the ones who work the queue, so their
leases have run out by the workers' clock whatever the machine's speed.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from factories.review import NOW, make_candidates, make_user
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from service.db.models import Candidate, ReviewAction
from service.errors import Conflict
from service.review import claim_next, reject

LATER = NOW + timedelta(hours=3)


def work_the_queue(
    sessions: sessionmaker[Session], user_id: int, start: threading.Barrier, *, now: datetime = LATER
) -> list[int]:
    """Claim, reject and claim again until the queue is empty; return the ids claimed, in order."""
    claimed: list[int] = []
    start.wait()
    with sessions() as session:
        while True:
            try:
                candidate = claim_next(session, user_id=user_id, now=now)
            except Conflict:  # the queue stayed contended through every retry: ask again
                session.rollback()
                continue
            session.commit()
            if candidate is None:
                return claimed
            claimed.append(candidate.id)
            reject(session, candidate_id=candidate.id, user_id=user_id, reason="other", now=now)
            session.commit()


def walk_away(sessions: sessionmaker[Session], user_id: int, start: threading.Barrier, times: int) -> list[int]:
    """Claim ``times`` items under 60 s leases at logical times before :data:`LATER` and never decide them."""
    claimed: list[int] = []
    start.wait()
    with sessions() as session:
        for step in range(times):
            candidate = claim_next(session, user_id=user_id, lease_s=60, now=NOW + timedelta(seconds=61 * step))
            session.commit()
            if candidate is not None:
                claimed.append(candidate.id)
    return claimed


def setup(sessions: sessionmaker[Session], *, items: int, reviewers: int) -> tuple[list[int], list[int]]:
    with sessions() as session:
        ids = [candidate.id for candidate in make_candidates(session, items)]
        users = [make_user(session, f"reviewer-{index}").id for index in range(reviewers)]
        session.commit()
    return ids, users


def check_all_decided_once(sessions: sessionmaker[Session], ids: list[int]) -> None:
    with sessions() as session:
        statuses = set(session.scalars(select(Candidate.status)))
        rejects = Counter(session.scalars(select(ReviewAction.candidate_id).where(ReviewAction.action == "reject")))
    assert statuses == {"rejected"}
    assert sorted(rejects) == sorted(ids) and set(rejects.values()) == {1}


def sizes(engine: Engine) -> tuple[int, int]:
    """500 items for 8 reviewers on PostgreSQL (the acceptance test); fewer on SQLite, whose writers queue up."""
    return (500, 8) if engine.dialect.name == "postgresql" else (120, 4)


def test_concurrent_reviewers_claim_every_item_exactly_once(
    sessions: sessionmaker[Session], shared_engine: Engine
) -> None:
    items, reviewers = sizes(shared_engine)
    ids, users = setup(sessions, items=items, reviewers=reviewers)
    start = threading.Barrier(reviewers)

    with ThreadPoolExecutor(reviewers) as pool:
        futures = [pool.submit(work_the_queue, sessions, user, start) for user in users]
        per_reviewer = [future.result(timeout=120) for future in futures]

    claimed = [candidate_id for ids_of_one in per_reviewer for candidate_id in ids_of_one]
    assert len(claimed) == len(set(claimed)), "an item was handed to two reviewers"
    assert sorted(claimed) == sorted(ids), "an item was lost"
    assert sum(1 for one in per_reviewer if one) > 1, "the work was not shared"
    check_all_decided_once(sessions, ids)


def test_claims_that_run_out_come_back_under_concurrency(
    sessions: sessionmaker[Session], shared_engine: Engine
) -> None:
    items, reviewers = sizes(shared_engine)
    items //= 2
    ids, users = setup(sessions, items=items, reviewers=reviewers)
    leavers, workers = users[: reviewers // 2], users[reviewers // 2 :]
    start = threading.Barrier(reviewers)

    with ThreadPoolExecutor(reviewers) as pool:
        left = [pool.submit(walk_away, sessions, user, start, 5) for user in leavers]
        worked = [pool.submit(work_the_queue, sessions, user, start) for user in workers]
        abandoned = {candidate_id for future in left for candidate_id in future.result(timeout=120)}
        claimed = [candidate_id for future in worked for candidate_id in future.result(timeout=120)]
    # A leaver may have claimed after the workers found the queue empty: one more pass picks those up.
    claimed += work_the_queue(sessions, workers[0], threading.Barrier(1))

    assert abandoned, "nobody walked away"
    assert len(claimed) == len(set(claimed)) and sorted(claimed) == sorted(ids)
    assert abandoned <= set(claimed), "every abandoned claim came back and was decided"
    check_all_decided_once(sessions, ids)


def test_one_reviewer_in_two_tabs_still_holds_one_item(sessions: sessionmaker[Session]) -> None:
    (_, [user]) = setup(sessions, items=10, reviewers=1)
    start = threading.Barrier(2)

    def claim() -> int | None:
        start.wait()
        with sessions() as session:
            candidate = claim_next(session, user_id=user, now=NOW)
            session.commit()
            return None if candidate is None else candidate.id

    with ThreadPoolExecutor(2) as pool:
        got = [future.result(timeout=60) for future in [pool.submit(claim), pool.submit(claim)]]

    assert got[0] is not None and got[0] == got[1]
    with sessions() as session:
        held = session.scalars(select(Candidate.id).where(Candidate.claimed_by_id == user)).all()
    assert held == [got[0]]
