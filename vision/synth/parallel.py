"""Runs independent rendering jobs in worker processes (results in job order)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

import cv2

Job = TypeVar("Job")
Result = TypeVar("Result")


def _init_worker() -> None:
    cv2.setNumThreads(1)  # one core per worker process


def run_jobs(fn: Callable[[Job], Result], jobs: Sequence[Job], workers: int) -> Iterator[Result]:
    """``fn(job)`` for every job, in order; in ``workers`` processes when more than one.

    ``fn`` must be a module-level function (it is pickled). Results do not depend on ``workers``.
    """
    if workers <= 1:
        _init_worker()
        for job in jobs:
            yield fn(job)
        return
    context = multiprocessing.get_context("spawn")  # no fork of a parent that may hold threads
    with context.Pool(workers, initializer=_init_worker) as pool:
        yield from pool.imap(fn, jobs, chunksize=2)
