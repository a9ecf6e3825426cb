"""Training a detector with ultralytics, offline and CPU-sane, leaving a model card in the run folder.

A run lives in ``runs/train/<name>/`` (gitignored): ``weights/{best,last}.pt``, ultralytics' ``results.csv``, the
resolved ``data.yaml`` it trained on, and ``card.yaml`` + ``README.md``. The card is written when training starts,
after every saved epoch, and at the end (with the evaluation of ``best.pt`` on the val split by our own evaluator),
so an interrupted run still says what it is. ``resume`` continues ``last.pt`` of an unfinished run. Starting from
a checkpoint ``.pt`` of ours fine-tunes it (its class head is rebuilt if the new data has other classes), and the
new card carries the checkpoint's training stages before its own.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vision.errors import ModelError, VisionError
from vision.training.card import ModelCard, distinct, load_card, metrics_entry, now, write_card
from vision.training.dataset import DataSpec, load_data_yaml, resolved_data_yaml
from vision.training.ultralytics_env import import_ultralytics, torch_load

DEFAULT_PROJECT = Path(__file__).resolve().parents[2] / "runs" / "train"
SELECTION_NOTE = "The val split chose best.pt (the epoch with the best val fitness), so its numbers lean optimistic."


@dataclass(frozen=True)
class TrainSettings:
    """What to train, on what, and how.

    Attributes:
        data: The dataset's data.yaml.
        name: The run's name: its folder under ``project``.
        model: A model yaml (``yolo26n.yaml``: from scratch) or a checkpoint ``.pt`` to fine-tune.
        epochs: Epochs to train.
        imgsz: Square training size in pixels.
        batch: Images per batch.
        seed: Random seed (training is deterministic for a given seed on the same machine).
        workers: Data-loading worker processes.
        device: ``"cpu"``, or a CUDA device such as ``"0"``.
        resume: Continue ``last.pt`` of the unfinished run ``name``; other settings come from that run.
        project: The folder that holds runs.
        cache: ``"ram"`` caches decoded images in RAM if they fit (ultralytics checks), ``"disk"``, or ``None``.
        patience: Epochs without val improvement before stopping early.
        source: ``real`` or ``synthetic`` for the val metrics in the card; ``None`` infers it from the data.yaml.
        evaluate: Evaluate ``best.pt`` on the val split with our evaluator at the end, into the card.
        warmup_epochs: Epochs over which the learning rate ramps up (at least 100 iterations, ultralytics' rule).
            Ultralytics' 3 suits training from scratch; a stage continuing our own checkpoint needs far less.
        warmup_bias_lr: Learning rate the biases start the warm-up at. Ultralytics' 0.1 is tuned for SGD at
            lr 0.01; with the AdamW it picks for short runs, 0.1 throws a trained model's biases about, so a
            continuing stage wants 0 (biases ramp up like the weights).
        close_mosaic: Mosaic augmentation is switched off for this many last epochs (ultralytics' 10). A stage
            shorter than that trains without mosaic at all, so a short stage that wants mosaic sets it lower.
        command: The command line, recorded in the card.
    """

    data: Path
    name: str
    model: str = "yolo26n.yaml"
    epochs: int = 100
    imgsz: int = 640
    batch: int = 16
    seed: int = 0
    workers: int = 2
    device: str = "cpu"
    resume: bool = False
    project: Path = DEFAULT_PROJECT
    cache: str | None = "ram"
    patience: int = 100
    source: str | None = None
    evaluate: bool = True
    warmup_epochs: float = 3.0
    warmup_bias_lr: float = 0.1
    close_mosaic: int = 10
    command: str = ""


@dataclass(frozen=True)
class TrainResult:
    """Where a finished run put its outputs."""

    run_dir: Path
    best: Path
    last: Path
    card: Path
    epochs_completed: int


def train(settings: TrainSettings, callbacks: Mapping[str, Callable[[Any], None]] | None = None) -> TrainResult:
    """Train (or resume, or fine-tune) a detector and write its card.

    Args:
        settings: What and how to train.
        callbacks: Extra ultralytics callbacks by event name (e.g. ``on_fit_epoch_end``).

    Returns:
        The run's paths.

    Raises:
        VisionError: The data.yaml is malformed; the run exists and ``resume`` was not asked for, or there is
            nothing to resume.
        ModelError: The start model does not exist, or ultralytics is not installed.
    """
    run_dir = (settings.project / settings.name).resolve()
    last = run_dir / "weights" / "last.pt"
    card_path = run_dir / "card.yaml"
    yolo = import_ultralytics()
    if settings.resume:
        _check_resumable(last)
        data_yaml = run_dir / "data.yaml"
        model = yolo.YOLO(str(last))
        arguments: dict[str, Any] = {"resume": True, "device": settings.device, "workers": settings.workers}
    else:
        if last.exists():
            raise VisionError(
                f"{run_dir}: a run of this name exists; pass resume to continue it, or choose another name"
            )
        spec = load_data_yaml(settings.data)
        data_yaml = resolved_data_yaml(spec, run_dir / "data.yaml")
        model = _start_model(yolo, settings.model)
        arguments = _train_arguments(settings, data_yaml, run_dir)
        write_card(_new_card(settings, spec, run_dir), card_path)
    spec = load_data_yaml(data_yaml)
    stage_run = str(run_dir)
    model.add_callback("on_model_save", lambda trainer: _record_epoch(card_path, stage_run, trainer.epoch + 1))
    for event, function in (callbacks or {}).items():
        model.add_callback(event, function)
    model.train(**arguments)
    epochs_completed = int(model.trainer.epoch) + 1
    best = run_dir / "weights" / "best.pt"
    card = _finish_stage(load_card(card_path), stage_run, epochs_completed)
    card = dataclasses.replace(card, architecture=describe_architecture(best if best.exists() else last))
    if settings.evaluate and best.exists():
        card = _evaluate_into_card(card, best, spec, settings)
    write_card(card, card_path)
    return TrainResult(run_dir, best, last, card_path, epochs_completed)


def describe_architecture(weights: Path) -> str:
    """Describe a checkpoint's network, e.g. ``"yolo26n (ultralytics 8.4.190), 2.38M parameters"``."""
    checkpoint = torch_load(weights)
    network = checkpoint.get("ema") or checkpoint["model"]
    yaml_file = Path(str(getattr(network, "yaml", {}).get("yaml_file", "unknown"))).stem
    parameters = sum(p.numel() for p in network.parameters())
    version = checkpoint.get("version", "?")
    return f"{yaml_file} (ultralytics {version}), {parameters / 1e6:.2f}M parameters"


def data_description(spec: DataSpec) -> dict[str, Any]:
    """Describe a dataset for a card: its yaml, kind, source, seed, description, classes and split sizes.

    ``kind`` is ``"mixed"`` where the data.yaml declares ``kind: mixed`` (synthetic and real parts), else
    `data_source`'s ``"synthetic"`` or ``"real"``. Split sizes count distinct images (a part listed twice counts once).
    """
    described: dict[str, Any] = {"yaml": str(original_data_yaml(spec))}
    manifest = synth_manifest(spec)
    if manifest:
        described["generator"] = f"{manifest.get('generator')} {manifest.get('generator_version', '')}".strip()
        described["seed"] = manifest.get("seed")
    for key in ("source", "seed", "description", "split_rule"):
        if spec.extra.get(key) is not None:
            described[key] = spec.extra[key]
    # A mix of real and generated parts says so (``kind: mixed``); its metrics still need real|synthetic.
    declared = str(spec.extra.get("kind", "")).lower()
    described["kind"] = "mixed" if declared == "mixed" else data_source(spec)
    described["names"] = list(spec.names)
    described["images"] = {split: len(spec.images(split)) for split in spec.splits}
    return described


def data_source(spec: DataSpec) -> str:
    """``"synthetic"`` if the dataset says so, else ``"real"``.

    Synthetic means: a ``synth.json`` manifest beside the data.yaml (written by ``xiuhua synth scenes``), or in
    the data.yaml ``synthetic: true``, ``kind: synthetic`` or a ``source`` mentioning "synth".
    """
    kind = str(spec.extra.get("kind", "")).lower()
    source = str(spec.extra.get("source", "")).lower()
    marked = spec.extra.get("synthetic") is True or kind == "synthetic" or "synth" in source
    return "synthetic" if marked or synth_manifest(spec) else "real"


def synth_manifest(spec: DataSpec) -> dict[str, Any]:
    """The synthetic generator's ``synth.json`` beside the data.yaml, or ``{}``."""
    manifest = original_data_yaml(spec).parent / "synth.json"
    try:
        loaded = json.loads(manifest.read_text(encoding="utf-8")) if manifest.is_file() else {}
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def original_data_yaml(spec: DataSpec) -> Path:
    """The data.yaml a run's resolved copy was made from (or the spec's own)."""
    return Path(spec.extra.get("source_yaml", spec.yaml_path)).resolve()


def _start_model(yolo: Any, model: str) -> Any:
    if model.endswith(".pt"):
        if not Path(model).is_file():  # ultralytics would try to download a missing one
            raise ModelError(model, "no such checkpoint (nothing is downloaded; give a .pt of ours or a model yaml)")
        return yolo.YOLO(model)
    if not model.endswith((".yaml", ".yml")):
        raise ModelError(model, "expected a model yaml (e.g. yolo26n.yaml) or a checkpoint .pt")
    try:
        return yolo.YOLO(model)
    except FileNotFoundError as error:
        raise ModelError(model, f"unknown model yaml: {error}") from error


def _train_arguments(settings: TrainSettings, data_yaml: Path, run_dir: Path) -> dict[str, Any]:
    return {
        "data": str(data_yaml),
        "epochs": settings.epochs,
        "imgsz": settings.imgsz,
        "batch": settings.batch,
        "workers": settings.workers,
        "device": settings.device,
        "seed": settings.seed,
        "deterministic": True,
        "project": str(run_dir.parent),
        "name": run_dir.name,
        "exist_ok": True,
        # A yaml starts from random weights; a .pt of ours is fine-tuned, so its weights must be loaded.
        "pretrained": settings.model.endswith(".pt"),
        "amp": False,  # CPU; and the AMP check would download yolo26n.pt
        "plots": False,  # plots need fonts, which ultralytics would download
        "cache": settings.cache or False,
        "patience": settings.patience,
        "warmup_epochs": settings.warmup_epochs,
        "warmup_bias_lr": settings.warmup_bias_lr,
        "close_mosaic": settings.close_mosaic,
        "verbose": True,
    }


def _check_resumable(last: Path) -> None:
    if not last.exists():
        raise VisionError(f"{last}: nothing to resume (no such file)")
    checkpoint = torch_load(last)
    if checkpoint.get("epoch", -1) < 0 or checkpoint.get("optimizer") is None:
        raise VisionError(f"{last}: this run finished; to train further, start a new run from it (model {last})")


def _new_card(settings: TrainSettings, spec: DataSpec, run_dir: Path) -> ModelCard:
    stage = {
        "run": str(run_dir),
        "model": settings.model,
        "data": data_description(spec),
        "epochs": settings.epochs,
        "epochs_completed": 0,
        "imgsz": settings.imgsz,
        "batch": settings.batch,
        "seed": settings.seed,
        "command": settings.command,
        "started": now(),
        "finished": None,
    }
    earlier = _parent_stages(settings.model)
    stages = [*earlier, stage]
    return ModelCard(
        name=settings.name,
        classes=spec.names,
        imgsz=(settings.imgsz, settings.imgsz),
        training={
            "data": distinct(s["data"] for s in stages if isinstance(s.get("data"), dict)),
            "epochs": settings.epochs,
            "imgsz": settings.imgsz,
            "seed": settings.seed,
            "command": settings.command,
            "started": stage["started"],
            "finished": None,
            "stages": stages,
        },
    )


def _parent_stages(model: str) -> list[dict[str, Any]]:
    """The training stages of a start checkpoint, from the card beside it (models/x/) or its run (runs/.../)."""
    if not model.endswith(".pt"):
        return []
    weights = Path(model).resolve()
    for candidate in (weights.parent / "card.yaml", weights.parent.parent / "card.yaml"):
        if candidate.is_file():
            return list(load_card(candidate).training.get("stages") or [])
    return []


def _record_epoch(card_path: Path, run: str, epochs_completed: int) -> None:
    card = load_card(card_path)
    stages = [dict(s, epochs_completed=epochs_completed) if s.get("run") == run else s for s in _stages(card)]
    write_card(dataclasses.replace(card, training={**card.training, "stages": stages}), card_path)


def _finish_stage(card: ModelCard, run: str, epochs_completed: int) -> ModelCard:
    finished = now()
    stages = [
        dict(s, epochs_completed=epochs_completed, finished=finished) if s.get("run") == run else s
        for s in _stages(card)
    ]
    return dataclasses.replace(card, training={**card.training, "stages": stages, "finished": finished})


def _stages(card: ModelCard) -> list[dict[str, Any]]:
    return list(card.training.get("stages") or [])


def _evaluate_into_card(card: ModelCard, best: Path, spec: DataSpec, settings: TrainSettings) -> ModelCard:
    from vision.training.evaluate import evaluate_detector

    try:
        from vision.detect import load_detector  # the detector backends; imported late, they load runtimes
    except ImportError as error:
        return card.with_note(f"best.pt was not evaluated: no detector backend ({error})")

    conf = 0.001
    detector = load_detector(best, device=settings.device, conf=conf)
    result = evaluate_detector(detector, spec, split="val", conf=conf)
    original = original_data_yaml(spec)
    entry = metrics_entry(
        result,
        source=settings.source or data_source(spec),
        trained_on=False,
        data=original,
        split="val",
        model=best,
        conf=conf,
        command=shlex.join(["xiuhua", "evaluate", "--model", str(best), "--data", str(original), "--split", "val"]),
    )
    split_name = f"{original.parent.name}-val"
    return card.with_metrics(split_name, {**entry, "used_for_selection": True}).with_note(SELECTION_NOTE)
