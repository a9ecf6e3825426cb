"""``xiuhua scan``: the whole pipeline over video and photo archives into the database, resumable, with a report."""

from __future__ import annotations

import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from service.cli.main import CONF_HELP, app

if TYPE_CHECKING:
    from service.scan.runner import ScanProgressView, ScanRequest, ScanSummary
    from service.scan.worker import SourceOutcome

EXIT_FAILED_SOURCES = 1
EXIT_SETUP = 2


@app.command()
def scan(
    paths: list[str] = typer.Argument(..., help="Video files, photos and folders of them (searched recursively)."),
    camera: str | None = typer.Option(None, "--camera", help="Registered camera KEY all inputs come from."),
    kind: str | None = typer.Option(None, "--kind", help="Camera kind: fixed, ptz or patrol (overrides inference)."),
    start: str | None = typer.Option(
        None, "--start", help="ISO-8601 start time (with zone) for videos with no creation_time and no GPS track."
    ),
    gps_offset: float = typer.Option(0.0, "--gps-offset", help="Seconds added to video time to read the GPS track."),
    sample: str | None = typer.Option(
        None,
        "--sample",
        help="Sampling for every video ('2fps', 'all', 'keyframes'). Default: patrol 5fps; fixed and PTZ their "
        "keyframes when those are 0.5-4 s apart, else 2fps.",
    ),
    skim: bool = typer.Option(False, "--skim", help="Keyframes only: fastest, for a first look."),
    gate: bool = typer.Option(True, "--gate/--no-gate", help="Skip unchanged frames of fixed and PTZ cameras."),
    model: Path | None = typer.Option(None, "--model", "-m", help="Model file or folder (default: shipped model)."),
    runtime: str | None = typer.Option(None, "--runtime", help="Force openvino, onnxruntime or ultralytics."),
    conf: float | None = typer.Option(
        None,
        "--conf",
        help=CONF_HELP,
    ),
    rect: bool = typer.Option(
        True,
        "--rect/--square",
        help="Letterbox frames into a smaller input than the square one when the model allows (16:9 at 512: "
        "512x320, a third less inference, detections differ a little); --square as xiuhua detect does.",
    ),
    batch: int = typer.Option(4, "--batch", min=1, help="Frames per inference batch."),
    threads: int | None = typer.Option(
        None, "--threads", min=1, help="Inference threads per worker (default: cores per worker less one)."
    ),
    workers: int = typer.Option(1, "--workers", "-j", min=1, help="Worker processes on this machine."),
    backend: str = typer.Option("local", "--backend", help="'local' (this machine) or 'ray'."),
    use_ray: bool = typer.Option(False, "--ray", help="Same as --backend ray."),
    address: str | None = typer.Option(None, "--address", help="Ray cluster address (default: a local Ray)."),
    rules: Path | None = typer.Option(None, "--rules", help="Rules folder or rules.yaml (zones, permits)."),
    evidence: Path | None = typer.Option(None, "--evidence", help="Evidence folder (default: data/evidence)."),
    report: Path | None = typer.Option(None, "--report", help="Report folder (default: data/reports/scan-JOB)."),
    no_report: bool = typer.Option(False, "--no-report", help="Write no report."),
    database: str | None = typer.Option(None, "--database", help="Database URL (default: $DATABASE_URL)."),
    detector: str = typer.Option("model", "--detector", hidden=True, help="'truth': synthetic clips' ground truth."),
) -> None:
    """Scan archives: detect, track, locate, apply the rules and queue de-duplicated candidates.

    Patrol videos are found by a GPS track beside them (clip.gpx, clip.nmea, clip.csv or clip.mp4.gpx) and
    sampled at 5 fps; other videos are fixed-camera footage (or --camera says what they are): their keyframes,
    or 2 fps when keyframes are rare, with frames that did not change skipped by a motion gate.
    Running the same command again resumes: finished files are skipped, cut-off ones re-run, nothing is counted
    twice. Exit code 1 if any file failed or named nothing to scan, 2 if the scan could not start.
    """
    from service.scan.options import ScanOptions
    from service.scan.runner import ScanRequest

    chosen_backend = "ray" if use_ray else backend
    if chosen_backend not in ("local", "ray"):
        raise typer.BadParameter(f"{backend!r} is not 'local' or 'ray'", param_hint="--backend")
    try:
        options = ScanOptions(
            camera=camera,
            kind=kind,
            sample=sample,
            skim=skim,
            start=_parse_start(start) if start is not None else None,
            gps_offset_s=gps_offset,
            gate=gate,
            model=str((model or _default_model()).expanduser().resolve()) if detector == "model" else None,
            runtime=runtime,
            conf=conf,
            rect=rect,
            detector=detector,
            rules=str(rules.expanduser().resolve()) if rules is not None else None,
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    url = _database(database)
    if chosen_backend == "ray" and address is not None and url.startswith("sqlite"):
        typer.echo("warning: Ray on a cluster needs a shared database; set DATABASE_URL to PostgreSQL", err=True)
    request = ScanRequest(
        inputs=tuple(paths),
        options=options,
        database_url=url,
        workers=workers,
        batch=batch,
        threads=threads,
        backend="ray" if chosen_backend == "ray" else "local",
        ray_address=address,
        evidence_root=str(evidence.expanduser().resolve()) if evidence is not None else None,
        report=not no_report,
        report_dir=report,
    )
    summary = _run(request)
    _print_summary(summary)
    if summary.failed or summary.problems:
        raise typer.Exit(EXIT_FAILED_SOURCES)


def _run(request: ScanRequest) -> ScanSummary:
    from sqlalchemy.exc import SQLAlchemyError

    from service.errors import ServiceError
    from service.rules import RulesError
    from service.scan.ray_backend import RayUnavailable
    from service.scan.runner import run_scan

    view = _progress_bar() if sys.stderr.isatty() else None
    try:
        return run_scan(request, view)
    except (ServiceError, RulesError, RayUnavailable) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_SETUP) from error
    except SQLAlchemyError as error:
        typer.echo(f"error: database: {error}; run the same command again to resume", err=True)
        raise typer.Exit(EXIT_SETUP) from error


def _database(database: str | None) -> str:
    """The database URL, migrated to the current schema."""
    from service.db import DatabaseError, init_db, make_engine
    from service.defaults import database_url

    url = database or database_url()
    engine = make_engine(url)
    try:
        init_db(engine)
    except DatabaseError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_SETUP) from error
    finally:
        engine.dispose()
    return url


def _parse_start(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise typer.BadParameter(f"{value!r} is not an ISO-8601 time", param_hint="--start") from error
    if parsed.tzinfo is None:
        raise typer.BadParameter(f"{value!r} has no time zone; add Z or an offset such as +08:00", param_hint="--start")
    return parsed


def _default_model() -> Path:
    from service.defaults import default_model_path

    return default_model_path()


def _print_summary(summary: ScanSummary) -> None:
    echo = lambda text: typer.echo(text, err=True)  # noqa: E731
    hours = summary.video_seconds / 3600
    speed = summary.video_seconds / summary.wall_seconds if summary.wall_seconds > 0 else 0.0
    state = "resumed" if summary.resumed else "new"
    echo(
        f"scan job {summary.job_id} ({state}): {len(summary.plans)} sources, {summary.done_before} done before; "
        f"this run {len(summary.outcomes)} sources, {hours:.2f} h of video in {summary.wall_seconds:.1f} s "
        f"({speed:.1f}x real time), {summary.frames} frames, {summary.hits} hits"
    )
    origins: dict[str, int] = {}
    for plan in summary.plans:
        origins[plan.start_origin] = origins.get(plan.start_origin, 0) + 1
    echo("start times from: " + ", ".join(f"{origin} ({count})" for origin, count in sorted(origins.items())))
    for plan in summary.plans:
        for warning in plan.warnings:
            echo(f"  note: {plan.path}: {warning}")
    for problem in summary.problems:
        echo(f"  skipped: {problem.path}: {problem.reason}")
    for outcome in summary.failed:
        echo(f"  failed: {outcome.path}: {outcome.error}")
    if summary.report is not None:
        echo(f"report: {summary.report.html} (+ {summary.report.csv.name}, {summary.report.geojson.name})")
    if not summary.finished:
        echo("not every source is done: run the same command again to retry the rest")


def _progress_bar() -> ScanProgressView:
    """A tqdm bar on stderr over video seconds: files done, hours scanned, ETA, hits."""
    from tqdm import tqdm

    from service.scan.runner import ScanProgressView

    class Bar(ScanProgressView):
        def __init__(self) -> None:
            self.lock = threading.Lock()
            self.bar: tqdm[NoReturn] | None = None
            self.files = self.done = self.hits = 0
            self.total_hours = 0.0

        def started(self, *, files: int, video_seconds: float, done_before: int) -> None:
            self.files, self.total_hours = files, video_seconds / 3600
            before = f" ({done_before} done before)" if done_before else ""
            self.bar = tqdm(
                total=max(video_seconds, 1e-9),
                file=sys.stderr,
                dynamic_ncols=True,
                bar_format="{desc} {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}] {postfix}",
                desc=f"files 0/{files}{before}",
            )

        def advanced(self, frames: int, video_seconds: float, hits: int) -> None:
            with self.lock:
                self.hits += hits
                if self.bar is not None:
                    self.bar.update(video_seconds)
                    scanned = self.bar.n / 3600
                    self.bar.set_postfix_str(f"video {scanned:.2f}/{self.total_hours:.2f} h, hits {self.hits}")

        def source_finished(self, outcome: SourceOutcome) -> None:
            with self.lock:
                self.done += 1
                if self.bar is not None:
                    self.bar.set_description_str(f"files {self.done}/{self.files}")

        def close(self) -> None:
            with self.lock:
                if self.bar is not None:
                    self.bar.close()
                    self.bar = None

    return Bar()
