"""Running a scan's sources as Ray tasks, on a local Ray or an existing cluster, writing to one shared database.

Each source is one task. A Ray worker process keeps one `ScanWorker` (database engine, detector) per scan and
reuses it for every task it runs. Tasks are retried when a worker dies: scanning a source again is safe (sightings
are recorded once by ``(source, track key)``). On a cluster, every node needs the same xiuhua install, the model,
the videos and the evidence folder at the same paths (shared storage), and the database must be PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from service.scan.plan import SourcePlan
from service.scan.worker import ScanProgress, ScanWorker, SourceOutcome, WorkerConfig

OnOutcome = Callable[[SourceOutcome], object]
RAY_HINT = "the Ray backend needs Ray: pip install 'xiuhua[ray]'"

_workers: dict[WorkerConfig, ScanWorker] = {}


class RayUnavailable(RuntimeError):
    """Ray is not installed, or the cluster cannot be reached."""


def run_ray(
    plans: Sequence[SourcePlan],
    config: WorkerConfig,
    *,
    address: str | None = None,
    num_cpus: int | None = None,
    progress: ScanProgress | None = None,
    on_outcome: OnOutcome | None = None,
) -> list[SourceOutcome]:
    """Scans every source as a Ray task and waits for them all.

    Args:
        plans: The sources.
        config: What each worker needs; its database must be reachable from every node.
        address: A running cluster (``ray://head:10001`` or ``auto``); ``None`` starts a local Ray (stopped after)
            unless this process already initialised one.
        num_cpus: CPUs of a local Ray started here.
        progress: Told the frames, video seconds and hits of each source as it finishes.
        on_outcome: Called with each source's outcome as it finishes.

    Returns:
        One outcome per source, in the order they finished.

    Raises:
        RayUnavailable: Ray is missing or the cluster cannot be reached.
    """
    ray = _import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        try:
            ray.init(
                address=address,
                num_cpus=num_cpus if address is None else None,
                include_dashboard=False,
                logging_level="warning",
            )
        except (ConnectionError, RuntimeError, ValueError) as error:
            raise RayUnavailable(f"cannot start or reach Ray at {address or 'a local instance'}: {error}") from error
    outcomes: list[SourceOutcome] = []
    try:
        task = ray.remote(num_cpus=config.threads or 1, max_retries=2)(_scan_on_ray)
        pending = [task.remote(config, plan) for plan in plans]
        while pending:
            done, pending = ray.wait(pending, num_returns=1, timeout=1.0)
            for ref in done:
                outcome: SourceOutcome = ray.get(ref)
                outcomes.append(outcome)
                if progress is not None:
                    progress(outcome.frames, outcome.video_seconds, outcome.hits)
                if on_outcome is not None:
                    on_outcome(outcome)
    finally:
        if started_here:
            ray.shutdown()
    return outcomes


def _scan_on_ray(config: WorkerConfig, plan: SourcePlan) -> SourceOutcome:
    """One task: the worker process's `ScanWorker` for this scan scans one source."""
    worker = _workers.get(config)
    if worker is None:
        worker = _workers[config] = ScanWorker(config)
    return worker.scan(plan)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as error:
        raise RayUnavailable(RAY_HINT) from error
    return ray
