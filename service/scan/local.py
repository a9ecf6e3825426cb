"""Running a scan's sources on this machine: in this process, or spread over a pool of worker processes.

Each pool worker opens its own database engine and loads its own detector once (``spawn``: nothing of the parent's
OpenVINO or database state is inherited). On Linux a worker is killed when the scan process dies, so a ``kill -9``
of the scan leaves no worker behind to race the resumed scan.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from service.pipeline.source import FrameDetector
from service.scan.plan import SourcePlan
from service.scan.worker import ScanProgress, ScanWorker, SourceOutcome, WorkerConfig

OnOutcome = Callable[[SourceOutcome], object]

_worker: ScanWorker | None = None
_updates: Any = None


def run_local(
    plans: Sequence[SourcePlan],
    config: WorkerConfig,
    *,
    workers: int = 1,
    progress: ScanProgress | None = None,
    on_outcome: OnOutcome | None = None,
    detector: FrameDetector | None = None,
) -> list[SourceOutcome]:
    """Scans the sources, in order in this process (``workers`` 1) or in a pool of ``workers`` processes.

    ``detector`` replaces the one the options name; it cannot travel to worker processes, so it scans in this
    process whatever ``workers`` says.

    Returns:
        One outcome per source, in the order they finished.

    Raises:
        Whatever stopped a worker other than a source error (the database gone); sources not finished stay
        pending or running and are picked up when the same scan is run again.
    """
    outcomes: list[SourceOutcome] = []

    def finished(outcome: SourceOutcome) -> None:
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)

    if workers <= 1 or len(plans) <= 1 or detector is not None:
        worker = ScanWorker(config, detector)
        try:
            for plan in plans:
                finished(worker.scan(plan, progress))
        finally:
            worker.close()
        return outcomes
    _run_pool(plans, config, min(workers, len(plans)), progress, finished)
    return outcomes


def _run_pool(
    plans: Sequence[SourcePlan],
    config: WorkerConfig,
    workers: int,
    progress: ScanProgress | None,
    finished: Callable[[SourceOutcome], None],
) -> None:
    context = multiprocessing.get_context("spawn")
    updates = context.Queue()
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(config, updates))
    try:
        pending: set[Future[SourceOutcome]] = {pool.submit(_scan_in_worker, plan) for plan in plans}
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            _drain(updates, progress)
            for future in done:
                finished(future.result())
        _drain(updates, progress)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _drain(updates: Any, progress: ScanProgress | None) -> None:
    while True:
        try:
            frames, seconds, hits = updates.get_nowait()
        except queue.Empty:
            return
        if progress is not None:
            progress(frames, seconds, hits)


def _start_worker(config: WorkerConfig, updates: Any) -> None:
    """Pool initializer: die with the parent, open the database, keep the progress queue."""
    global _worker, _updates
    _die_with_parent()
    _worker = ScanWorker(config)
    _updates = updates


def _scan_in_worker(plan: SourcePlan) -> SourceOutcome:
    assert _worker is not None, "the pool initializer did not run"
    return _worker.scan(plan, _send_progress)


def _send_progress(frames: int, seconds: float, hits: int) -> None:
    _updates.put((frames, seconds, hits))


def _die_with_parent() -> None:
    """Linux: have the kernel SIGKILL this process when the process that started it dies."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    parent = multiprocessing.parent_process()
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    if parent is not None and os.getppid() != parent.pid:  # the parent died before the request took effect
        os._exit(1)
