"""``xiuhua pipeline-eval``: score detect → track → locate → rules → de-duplication on generated clips."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import typer

from service.cli.main import CONF_HELP, app
from service.defaults import default_model_path

eval_app = typer.Typer(help="Score the whole chain on generated clips with ground truth (xiuhua synth patrol|fixed).")
app.add_typer(eval_app, name="pipeline-eval")

TRUTH_HELP = "Use the clips' ground-truth boxes instead of a model: measures everything but the detector."


def _detector_for(model: Path | None, truth_boxes: bool, conf: float | None, frames_name: str | None) -> object:
    if truth_boxes:
        from vision.synth.truth import TruthDetector

        def truth_for(video: Path) -> TruthDetector:
            name = frames_name or f"{video.stem}_frames.jsonl"
            return TruthDetector.load(video.with_name(name))

        return truth_for
    from service.pipeline.source import ModelDetector
    from vision.detect import load_detector

    detector = ModelDetector(load_detector(model or default_model_path()), conf)
    return lambda video: detector


@eval_app.command("patrol")
def patrol(
    folder: Path = typer.Argument(..., exists=True, file_okay=False, help="Output of `xiuhua synth patrol`."),
    model: Path | None = typer.Option(None, "--model", "-m", help="Model folder or file (default: shipped model)."),
    truth_boxes: bool = typer.Option(False, "--truth-boxes", help=TRUTH_HELP),
    conf: float | None = typer.Option(
        None,
        help=CONF_HELP,
    ),
    fps: float = typer.Option(5.0, min=0.5, help="Sampling rate of the scan (patrol default: 5)."),
    workdir: Path | None = typer.Option(None, help="Keep the database and evidence here (default: a temp folder)."),
) -> None:
    """Scan every pass into one fresh database; print found share (also found_shown), candidates per violation,
    position errors."""
    from service.pipeline.evaluate import evaluate_patrol

    detector_for = _detector_for(model, truth_boxes, conf, None)
    with tempfile.TemporaryDirectory() as scratch:
        report = evaluate_patrol(folder, detector_for, workdir=workdir or Path(scratch), fps=fps)  # type: ignore[arg-type]
    typer.echo(json.dumps({"folder": str(folder), "truth_boxes": truth_boxes, "fps": fps, **report.as_dict()}))


@eval_app.command("fixed")
def fixed(
    folder: Path = typer.Argument(..., exists=True, file_okay=False, help="Output of `xiuhua synth fixed`."),
    model: Path | None = typer.Option(None, "--model", "-m", help="Model folder or file (default: shipped model)."),
    truth_boxes: bool = typer.Option(False, "--truth-boxes", help=TRUTH_HELP),
    conf: float | None = typer.Option(
        None,
        help=CONF_HELP,
    ),
    fps: float = typer.Option(2.0, min=0.5, help="Sampling rate of the scan."),
    workdir: Path | None = typer.Option(None, help="Keep the database and evidence here (default: a temp folder)."),
) -> None:
    """Scan the clip (its first frame is the reference); print the candidates and whether only the stall came out."""
    from service.pipeline.evaluate import evaluate_fixed

    detector_for = _detector_for(model, truth_boxes, conf, "frames.jsonl")
    with tempfile.TemporaryDirectory() as scratch:
        report = evaluate_fixed(folder, detector_for, workdir=workdir or Path(scratch), fps=fps)  # type: ignore[arg-type]
    typer.echo(json.dumps({"folder": str(folder), "truth_boxes": truth_boxes, "fps": fps, **report.as_dict()}))
