"""``xiuhua detect``: run the detector over videos, images, folders and streams; print JSONL."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path

import typer

from service.cli.main import app
from service.defaults import default_model_path
from service.detect_job import DetectJob, Progress, expand_inputs


@app.command()
def detect(
    paths: list[str] = typer.Argument(..., help="Video files, image files, folders or stream URLs."),
    model: Path | None = typer.Option(None, "--model", "-m", help="Model file or folder (default: shipped model)."),
    conf: float | None = typer.Option(None, help="Score threshold (default: the model card's)."),
    sample: str = typer.Option("all", help="Frames to use: 'all', 'keyframes', or per second such as '2fps'."),
    annotate: Path | None = typer.Option(None, help="Write annotated frames with detections into this folder."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write JSONL here instead of stdout."),
    batch: int = typer.Option(4, min=1, help="Frames per inference batch."),
    threads: int | None = typer.Option(None, min=1, help="Inference threads (default: the runtime's choice)."),
    device: str = typer.Option("cpu", help="'cpu' or 'cuda'."),
) -> None:
    """Detect objects and print one JSON object per detection.

    Fields: source, frame_index, timestamp (seconds, from the container), class, confidence, box [x1, y1, x2, y2]
    in pixels. A source that fails is reported and skipped; the exit code is 1 if any failed.
    """
    from vision.detect import load_detector
    from vision.errors import ModelError
    from vision.sources import Sampling

    try:
        sampling = Sampling.parse(sample)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--sample") from error
    model_path = model or default_model_path()
    try:
        detector = load_detector(model_path, device=device, threads=threads)
    except ModelError as error:
        typer.echo(f"error: model {error}", err=True)
        raise typer.Exit(2) from error
    sources, failures = expand_inputs(paths)
    job = DetectJob(detector, sampling=sampling, conf=conf, batch_size=batch, annotate_dir=annotate)
    progress = _BarProgress(len(sources)) if sys.stderr.isatty() else None
    with output.open("w", encoding="utf-8") if output else nullcontext(sys.stdout) as out:
        report = job.run(sources, out, progress)
    if progress is not None:
        progress.close()
    failures.extend(report.failures)
    typer.echo(
        f"{report.sources - len(report.failures)} of {report.sources} sources read, {report.frames} frames, "
        f"{report.detections} detections",
        err=True,
    )
    if failures:
        typer.echo(f"{len(failures)} failed:", err=True)
        for failure in failures:
            typer.echo(f"  {failure.source}: {failure.reason}", err=True)
        raise typer.Exit(1)


class _BarProgress(Progress):
    """A tqdm bar on stderr: files done, frames, ETA, detections so far."""

    def __init__(self, sources: int) -> None:
        from tqdm import tqdm

        self.sources = sources
        self.done = 0
        self.bar = tqdm(total=None, unit="frame", file=sys.stderr, dynamic_ncols=True)

    def source_started(self, source: str, frames_hint: int | None) -> None:
        self.bar.reset(total=frames_hint)
        self.bar.set_description(f"file {self.done + 1}/{self.sources} {Path(source).name}")

    def frames_done(self, count: int, detections: int) -> None:
        self.bar.update(count)
        self.bar.set_postfix(detections=detections)

    def source_done(self) -> None:
        self.done += 1

    def close(self) -> None:
        self.bar.close()
