"""``xiuhua train``, ``xiuhua evaluate`` and ``xiuhua export``: build, score and ship a detector."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import typer

from service.cli.main import app


@app.command("train")
def train_command(
    data: Path = typer.Option(None, help="The dataset's data.yaml (not needed with --resume)."),
    model: str = typer.Option("yolo26n.yaml", help="Model yaml (from scratch) or a checkpoint .pt to fine-tune."),
    epochs: int = typer.Option(100, min=1),
    imgsz: int = typer.Option(640, min=32),
    batch: int = typer.Option(16, min=1),
    name: str = typer.Option(..., help="Run name: the run goes to <project>/<name>/."),
    resume: bool = typer.Option(False, help="Continue last.pt of the unfinished run <name>."),
    seed: int = typer.Option(0),
    workers: int = typer.Option(2, min=0),
    device: str = typer.Option("cpu", help='"cpu", or a CUDA device such as "0".'),
    cache: str = typer.Option("ram", help='"ram" (if it fits), "disk" or "none".'),
    patience: int = typer.Option(100, min=1, help="Epochs without val improvement before stopping."),
    source: str = typer.Option(None, help="real|synthetic for the card's val metrics (default: from data.yaml)."),
    evaluate: bool = typer.Option(True, help="Evaluate best.pt on the val split into the card at the end."),
    project: Path = typer.Option(None, help="Folder of runs (default: runs/train of this repository)."),
    warmup_epochs: float = typer.Option(
        3.0, min=0.0, help="Learning-rate warm-up in epochs (3 from scratch; ~0.5 when continuing our own .pt)."
    ),
    warmup_bias_lr: float = typer.Option(
        0.1, min=0.0, help="Start learning rate of the biases in the warm-up (0 when continuing our own .pt)."
    ),
    close_mosaic: int = typer.Option(
        10, min=0, help="Train the last N epochs without mosaic (a stage of N epochs or fewer gets no mosaic)."
    ),
) -> None:
    """Train a detector with ultralytics (CPU-sane, offline) and write the run's model card."""
    from vision.errors import VisionError
    from vision.training.train import DEFAULT_PROJECT, TrainSettings, train

    if data is None and not resume:
        _fail("--data is required unless --resume is given")
    _check_source(source)
    settings = TrainSettings(
        data=data or Path(),
        name=name,
        model=model,
        epochs=epochs,
        imgsz=imgsz,
        batch=batch,
        seed=seed,
        workers=workers,
        device=device,
        resume=resume,
        project=project or DEFAULT_PROJECT,
        cache=None if cache == "none" else cache,
        patience=patience,
        source=source,
        evaluate=evaluate,
        warmup_epochs=warmup_epochs,
        warmup_bias_lr=warmup_bias_lr,
        close_mosaic=close_mosaic,
    )
    settings = dataclasses.replace(settings, command=_train_command_line(settings))
    try:
        result = train(settings)
    except VisionError as error:
        _fail(str(error))
    typer.echo(f"run: {result.run_dir} ({result.epochs_completed} epochs)\nbest: {result.best}\ncard: {result.card}")


@app.command("evaluate")
def evaluate_command(
    model: Path = typer.Option(..., help="Weights: .pt, .onnx or an OpenVINO model folder."),
    data: Path = typer.Option(..., help="A YOLO data.yaml."),
    split: str = typer.Option("val", help="val, test or train."),
    conf: float = typer.Option(0.001, min=0.0, max=1.0, help="Score threshold (low: see the whole PR curve)."),
    iou: float | None = typer.Option(
        None, min=0.0, max=1.0, help="NMS IoU for models with a classic head (default: the backend's own)."
    ),
    batch: int = typer.Option(8, min=1, help="Images per detector call."),
    device: str = typer.Option("cpu"),
    threads: int = typer.Option(None, min=1, help="CPU threads of the runtime (default: its own)."),
    as_json: bool = typer.Option(False, "--json", help="Print exactly one JSON object instead of a table."),
    card: Path = typer.Option(None, help="Also record the result in this card.yaml (and its README.md)."),
    split_name: str = typer.Option(None, help="Name of this result in the card, e.g. facade-test."),
    source: str = typer.Option(None, help="real|synthetic: what the split is (required with --card)."),
    trained_on: bool = typer.Option(False, help="The model was trained on this split (for the card)."),
) -> None:
    """Score a model on a dataset split with our own evaluator (classes matched by name).

    Precision and recall are read at the one confidence where the class-mean F1 is highest, as ultralytics does;
    AP is COCO's 101-point interpolated AP (AP50, and AP50-95 averaged over IoU 0.50:0.95).
    """
    from vision.errors import VisionError

    if card is not None and (not split_name or source is None):
        _fail("--card needs --split-name and --source")
    _check_source(source)
    redirect = _stdout_to_stderr() if as_json else contextlib.nullcontext()
    try:
        with redirect:
            result = _evaluate(model, data, split, conf, iou, batch, device, threads)
            if card is not None:
                _record(card, split_name, source, trained_on, result, model, data, split, conf, iou)
    except VisionError as error:
        _fail(str(error))
    if as_json:
        typer.echo(json.dumps(result.to_dict()))
    else:
        typer.echo(_table(result))
    if card is not None:
        typer.echo(f"recorded as {split_name!r} in {card}", err=as_json)


@app.command("export")
def export_command(
    weights: Path = typer.Option(..., help="A training checkpoint, e.g. runs/train/<run>/weights/best.pt."),
    out: Path = typer.Option(..., help="The model folder, models/<name>/; its name names the files."),
    imgsz: int = typer.Option(640, min=32),
    check_data: Path = typer.Option(None, help="data.yaml whose val split checks that OpenVINO FP16 keeps accuracy."),
    default_conf: float = typer.Option(None, min=0.0, max=1.0, help="Score threshold to recommend in the card."),
) -> None:
    """Write <name>.pt (no optimizer, FP16), <name>.onnx, <name>_openvino_model/ and the card into --out."""
    from vision.errors import VisionError
    from vision.training.export import export_model

    try:
        result = export_model(weights, out, imgsz=imgsz, check_data=check_data, default_conf=default_conf)
    except VisionError as error:
        _fail(str(error))
    typer.echo(f"wrote {result.pytorch}, {result.onnx}, {result.openvino} ({result.openvino_precision}), {result.card}")


def _evaluate(
    model: Path, data: Path, split: str, conf: float, iou: float | None, batch: int, device: str, threads: int | None
) -> Any:
    import inspect

    from tqdm import tqdm

    from vision.detect import load_detector
    from vision.errors import VisionError
    from vision.training.dataset import load_data_yaml
    from vision.training.evaluate import evaluate_detector

    spec = load_data_yaml(data)
    options: dict[str, Any] = {"device": device, "conf": conf}
    if threads is not None:
        options["threads"] = threads
    if iou is not None:
        # Our exports are NMS-free (YOLO26's end-to-end head), so IoU matters only for other models' NMS.
        if "iou" not in inspect.signature(load_detector).parameters:
            raise VisionError("--iou: this build's detector loader does not take an NMS IoU; leave it out")
        options["iou"] = iou
    detector = load_detector(model, **options)
    with tqdm(total=len(spec.images(split)), desc=f"evaluate {split}", unit="img", file=sys.stderr) as bar:
        return evaluate_detector(detector, spec, split=split, conf=conf, batch=batch, progress=bar.update)


def _record(
    card_path: Path,
    split_name: str,
    source: str,
    trained_on: bool,
    result: Any,
    model: Path,
    data: Path,
    split: str,
    conf: float,
    iou: float | None,
) -> None:
    import shlex

    from vision.training.card import load_card, metrics_entry, write_card

    options = ["--split", split, "--conf", str(conf), *(["--iou", str(iou)] if iou is not None else [])]
    command = shlex.join(["xiuhua", "evaluate", "--model", str(model), "--data", str(data), *options])
    entry = metrics_entry(
        result,
        source=source,
        trained_on=trained_on,
        data=data,
        split=split,
        model=model,
        conf=conf,
        command=command,
    )
    write_card(load_card(card_path).with_metrics(split_name, entry), card_path)


def _table(result: Any) -> str:
    header = f"{'class':<22}{'instances':>10}{'P':>8}{'R':>8}{'AP50':>8}{'AP50-95':>9}"
    total = sum(m.instances for m in result.classes.values())
    lines = [header, f"{'all':<22}{total:>10}{'':>8}{'':>8}{result.map50:>8.3f}{result.map50_95:>9.3f}"]
    for name, m in result.classes.items():
        lines.append(f"{name:<22}{m.instances:>10}{m.precision:>8.3f}{m.recall:>8.3f}{m.ap50:>8.3f}{m.ap50_95:>9.3f}")
    lines += [f"{name:<22}not evaluated: {reason}" for name, reason in result.not_evaluated.items()]
    lines.append(f"{result.images} images; P and R at conf {result.best_f1_conf:.3f} (best mean F1)")
    return "\n".join(lines)


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send whatever is printed meanwhile (by Python or by native runtimes) to stderr, keeping stdout clean."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _check_source(source: str | None) -> None:
    if source is not None and source not in ("real", "synthetic"):
        _fail(f"--source must be real or synthetic, got {source!r}")


def _train_command_line(settings: Any) -> str:
    import shlex

    from vision.training.train import DEFAULT_PROJECT

    words = ["xiuhua", "train", "--name", settings.name]
    if settings.project != DEFAULT_PROJECT:
        words += ["--project", str(settings.project)]
    if settings.resume:
        return shlex.join([*words, "--resume"])
    words += ["--data", str(settings.data), "--model", settings.model, "--epochs", str(settings.epochs)]
    words += ["--imgsz", str(settings.imgsz), "--batch", str(settings.batch), "--seed", str(settings.seed)]
    words += ["--workers", str(settings.workers), "--device", settings.device]
    words += ["--warmup-epochs", f"{settings.warmup_epochs:g}", "--warmup-bias-lr", f"{settings.warmup_bias_lr:g}"]
    words += ["--close-mosaic", str(settings.close_mosaic)]
    return shlex.join(words)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)
