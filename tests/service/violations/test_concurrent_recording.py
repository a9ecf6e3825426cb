"""Several writers at once: two workers that see one object at the same moment make one candidate."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from factories.observations import accept, make_observation
from sqlalchemy import Engine, func, select

from service.db import session_factory
from service.db.models import Candidate, Sighting
from service.violations.observation import Observation
from service.violations.recorder import Recorder, Recording
from service.violations.records import Recorded

ROUNDS = 12


def _in_parallel(tasks: list[Callable[[], list[Recorded]]]) -> list[list[Recorded]]:
    with ThreadPoolExecutor(len(tasks)) as pool:
        return [future.result(timeout=120) for future in [pool.submit(task) for task in tasks]]


def _worker(engine: Engine, observations: list[Observation], barrier: threading.Barrier) -> Callable[[], list]:
    def run() -> list[Recorded]:
        recorder = Recorder()
        outcomes = []
        with session_factory(engine)() as session:
            for observation in observations:
                barrier.wait(timeout=60)  # both workers record their observation of this round at once
                outcomes.append(recorder.record(session, observation, accept()))
                session.commit()
        return outcomes

    return run


def test_two_workers_seeing_one_object_open_one_candidate(engine: Engine) -> None:
    # Each round: one new object, seen at the same moment by two cameras, recorded by two workers.
    barrier = threading.Barrier(2)
    per_camera = [
        [make_observation(f"r{n}", north_m=200 * n + 3 * k, minutes=n, source=f"cam-{k}") for n in range(ROUNDS)]
        for k in range(2)
    ]
    results = _in_parallel([_worker(engine, observations, barrier) for observations in per_camera])
    with session_factory(engine)() as session:
        counts = session.scalars(select(Candidate.sightings_count).order_by(Candidate.id)).all()
    assert counts == [2] * ROUNDS
    for round_outcomes in zip(*results, strict=True):
        assert sorted(o.action for o in round_outcomes) == ["attached", "opened"]


def test_two_workers_recording_one_track_store_it_once(engine: Engine) -> None:
    barrier = threading.Barrier(2)
    observations = [make_observation(f"t{n}", north_m=200 * n, minutes=n) for n in range(ROUNDS)]
    results = _in_parallel([_worker(engine, observations, barrier) for _ in range(2)])
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Sighting)) == ROUNDS
        assert session.scalars(select(Candidate.sightings_count)).all() == [1] * ROUNDS
    for round_outcomes in zip(*results, strict=True):
        assert sorted(o.action for o in round_outcomes) == ["duplicate", "opened"]


def test_batches_in_opposite_orders_neither_deadlock_nor_double(engine: Engine) -> None:
    # Whole batches: each worker's locks are taken at once, in one order, so crossing routes cannot deadlock.
    objects = range(40)
    forward = [
        Recording(make_observation(f"f{n}", east_m=150 * n, minutes=n, source="cam-a"), accept()) for n in objects
    ]
    backward = [
        Recording(make_observation(f"b{n}", east_m=150 * n + 2, minutes=n, source="cam-b"), accept())
        for n in reversed(objects)
    ]
    barrier = threading.Barrier(2)

    def batch(recordings: list[Recording]) -> Callable[[], list[Recorded]]:
        def run() -> list[Recorded]:
            with session_factory(engine)() as session:
                barrier.wait(timeout=60)
                outcomes = Recorder().record_many(session, recordings)
                session.commit()
            return outcomes

        return run

    _in_parallel([batch(forward), batch(backward)])
    with session_factory(engine)() as session:
        counts = session.scalars(select(Candidate.sightings_count)).all()
    assert sorted(counts) == [2] * len(objects)
