"""A whole scan: inputs → plans → the job (what is done already) → workers (here, a pool or Ray) → summary.

The same command is the same job (`job_key`): run again after a crash or a ``kill -9``, it skips the sources that
are ``done`` and runs the rest; sources added to a folder since are added to the job.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Literal

from sqlalchemy.orm import Session

from service.db import make_engine, session_factory
from service.defaults import data_dir
from service.evidence import EvidenceStore
from service.pipeline.source import FrameDetector
from service.references import ReferenceStore
from service.rules import RuleBook
from service.scan import jobs
from service.scan.inputs import InputProblem, SourceFile, discover
from service.scan.options import ScanOptions, job_key
from service.scan.plan import CameraInfo, SourcePlan, plan_source
from service.scan.queries import camera_info, touched_candidates
from service.scan.report import ReportFiles, ScanReport, SourceLine, write_report
from service.scan.worker import SourceOutcome, WorkerConfig

Backend = Literal["local", "ray"]


class ScanProgressView:
    """What a scan tells the person watching; the default says nothing (the CLI draws a bar)."""

    def started(self, *, files: int, video_seconds: float, done_before: int) -> None:
        """The scan is about to run ``files`` sources of ``video_seconds`` in all (``done_before`` are skipped)."""

    def advanced(self, frames: int, video_seconds: float, hits: int) -> None:
        """More frames, video seconds and hits since the previous call."""

    def source_finished(self, outcome: SourceOutcome) -> None:
        """One source finished (done or failed)."""

    def close(self) -> None:
        """The scan is over."""


@dataclass(frozen=True)
class ScanRequest:
    """One scan command.

    Attributes:
        inputs: Files and folders as given.
        options: What decides the results.
        database_url: Where sightings, candidates and the job's state go.
        workers: Worker processes on this machine (local backend).
        batch: Frames per inference batch.
        threads: Inference threads per worker; ``None``: `default_threads` here, 1 per Ray task.
        backend: ``local`` or ``ray``.
        ray_address: The Ray cluster; ``None`` starts a local Ray.
        evidence_root: The evidence folder; ``None`` for the data folder's.
    """

    inputs: tuple[str, ...]
    options: ScanOptions = field(default_factory=ScanOptions)
    database_url: str = ""
    workers: int = 1
    batch: int = 4
    threads: int | None = None
    backend: Backend = "local"
    ray_address: str | None = None
    evidence_root: str | None = None
    report: bool = True
    report_dir: Path | None = None


@dataclass
class ScanSummary:
    """What a scan did.

    Attributes:
        job_id: The scan job.
        resumed: Whether the job existed (this run resumed it).
        plans: Every source's plan, by path.
        problems: Inputs that named nothing to scan.
        done_before: Sources skipped because an earlier run finished them.
        outcomes: This run's sources.
        wall_seconds: How long this run took.
        finished: Whether every source of the job is done now.
        report: Where the summary report went, if one was written.
    """

    job_id: int
    resumed: bool
    plans: list[SourcePlan]
    problems: list[InputProblem]
    done_before: int = 0
    outcomes: list[SourceOutcome] = field(default_factory=list)
    wall_seconds: float = 0.0
    finished: bool = False
    report: ReportFiles | None = None

    @property
    def failed(self) -> list[SourceOutcome]:
        """This run's failed sources."""
        return [outcome for outcome in self.outcomes if outcome.state == jobs.FAILED]

    @property
    def video_seconds(self) -> float:
        """Video scanned in this run."""
        return sum(outcome.video_seconds for outcome in self.outcomes)

    @property
    def frames(self) -> int:
        """Frames decoded and sampled in this run."""
        return sum(outcome.frames for outcome in self.outcomes)

    @property
    def hits(self) -> int:
        """Sightings of this run's sources that became or joined candidates."""
        return sum(outcome.hits for outcome in self.outcomes)


def run_scan(
    request: ScanRequest, view: ScanProgressView | None = None, *, detector: FrameDetector | None = None
) -> ScanSummary:
    """Plans, resumes and runs a scan; the database schema must exist (``init_db``).

    ``detector`` replaces the one the options name (tests, embedding); it scans in this process.

    Raises:
        service.errors.NotFound: ``--camera`` names no registered camera.
        service.rules.RulesError: The rules cannot be read.
        RayUnavailable: The Ray backend was asked for and cannot run.
        sqlalchemy.exc.SQLAlchemyError: The database failed; what was committed stays, run again to resume.
    """
    started = time.perf_counter()
    view = view or ScanProgressView()
    options = request.options
    rules = RuleBook.load(options.rules) if options.rules else RuleBook()
    engine = make_engine(request.database_url)
    sessions = session_factory(engine)
    try:
        with sessions() as session:
            camera = camera_info(session, key=options.camera, references=ReferenceStore()) if options.camera else None
        files, problems = discover(request.inputs)
        plans = _plan_all(files, options, camera, rules.settings.tz)
        with sessions() as session:
            job, resumed = jobs.open_job(
                session, key=job_key(request.inputs, options), options=_job_options(request, options)
            )
            jobs.add_sources(session, job_id=job.id, paths=[plan.path for plan in plans])
            done = {source.path for source in jobs.job_sources(session, job_id=job.id) if source.state == jobs.DONE}
            session.commit()
        summary = ScanSummary(job.id, resumed, plans, problems, done_before=sum(p.path in done for p in plans))
        todo = [plan for plan in plans if plan.path not in done]
        view.started(
            files=len(todo), video_seconds=sum(p.duration_s or 0.0 for p in todo), done_before=summary.done_before
        )
        config = WorkerConfig(
            database_url=request.database_url,
            job_id=job.id,
            options=options,
            batch=request.batch,
            threads=request.threads or (default_threads(request.workers) if request.backend == "local" else 1),
            evidence_root=request.evidence_root,
        )
        summary.outcomes = _dispatch(request, todo, config, view, detector)
        with sessions() as session:
            summary.finished = jobs.finish_job(session, job_id=job.id)
            session.commit()
        view.close()
        summary.wall_seconds = time.perf_counter() - started
        if request.report:
            folder = request.report_dir or data_dir() / "reports" / f"scan-{job.id}"
            with sessions() as session:
                report = gather_report(session, summary)
            evidence = EvidenceStore(Path(request.evidence_root)) if request.evidence_root else EvidenceStore()
            summary.report = write_report(report, folder, evidence)
    finally:
        view.close()
        engine.dispose()
    return summary


def gather_report(session: Session, summary: ScanSummary) -> ScanReport:
    """The report's content: every source of the scan with its state, and the candidates they touched."""
    rows = {source.path: source for source in jobs.job_sources(session, job_id=summary.job_id)}
    lines = tuple(
        SourceLine(plan, row.state, row.frames, row.video_seconds, row.hits, row.error)
        for plan in summary.plans
        if (row := rows.get(plan.path)) is not None
    )
    candidates = touched_candidates(session, sources=[plan.path for plan in summary.plans])
    return ScanReport(summary.job_id, lines, tuple(candidates), summary.wall_seconds, summary.video_seconds)


def default_threads(workers: int, cpus: int | None = None) -> int:
    """Inference threads per worker: the cores per worker less one, which decodes the next frames meanwhile.

    On two cores one worker with one inference thread beat one worker with two threads and two workers with one
    each (benchmarks/scan.py: 5.3x, 4.3x and 2.1x real time on 1080p at 2 fps).
    """
    return max(1, (cpus or os.cpu_count() or 2) // max(1, workers) - 1)


def _plan_all(
    files: Sequence[SourceFile], options: ScanOptions, camera: CameraInfo | None, tz: tzinfo
) -> list[SourcePlan]:
    return [plan_source(file, options, camera, photo_tz=tz) for file in files]


def _dispatch(
    request: ScanRequest,
    todo: list[SourcePlan],
    config: WorkerConfig,
    view: ScanProgressView,
    detector: FrameDetector | None,
) -> list[SourceOutcome]:
    if not todo:
        return []
    if request.backend == "ray" and detector is None:
        from service.scan.ray_backend import run_ray

        return run_ray(
            todo, config, address=request.ray_address, progress=view.advanced, on_outcome=view.source_finished
        )
    from service.scan.local import run_local

    return run_local(
        todo,
        config,
        workers=request.workers,
        progress=view.advanced,
        on_outcome=view.source_finished,
        detector=detector,
    )


def _job_options(request: ScanRequest, options: ScanOptions) -> dict[str, object]:
    return {
        "inputs": sorted(str(Path(path).expanduser().resolve()) for path in request.inputs),
        **options.as_json(),
    }
