"""Model cards: ``card.yaml`` (what a model detects, how it was trained, how well it does) and its README.md.

A card travels with the weights in ``models/<name>/``. Every metric in it is written by ``xiuhua evaluate --card``
or by training's own evaluation, with the command that reproduces it, so numbers in a card can be re-checked.

card.yaml keys::

    name, classes [..], imgsz [h, w], default_conf, architecture, files {pytorch, onnx, openvino}
    training: {data: [{yaml, source, seed, description, ...}], epochs, imgsz, seed, command, started, finished,
               stages: [{run, model, data, epochs, epochs_completed, imgsz, batch, seed, command, started, finished}]}
    metrics: {split_name: {source: real|synthetic, trained_on: bool, map50, map50_95, classes: {name: {...}},
              data, split, images, conf, model, command, evaluated}}
    notes: [..]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import yaml

from vision.errors import VisionError
from vision.taxonomy import Taxonomy, TaxonomyError, load_taxonomy
from vision.training.evaluate import EvaluationResult

SOURCES = ("real", "synthetic")
T = TypeVar("T")


class CardError(VisionError):
    """A model card is missing or malformed; names the file and the field."""

    def __init__(self, path: Path | str, field_name: str, reason: str) -> None:
        super().__init__(f"{path}: {field_name}: {reason}")
        self.path = Path(path)
        self.field = field_name


@dataclass(frozen=True)
class ModelCard:
    """What one model detects, how it was trained, and how well it does.

    Attributes:
        name: The model's name (its folder under ``models/``).
        classes: Class names in class-id order.
        imgsz: Network input size ``(height, width)``.
        default_conf: Score threshold recommended for use.
        architecture: E.g. ``"YOLO26n (ultralytics 8.4.190), 2.4M parameters"``.
        training: Data, settings and stages of training (see the module docstring).
        metrics: Evaluation results by split name.
        notes: Free-text caveats, e.g. what synthetic metrics do not prove.
        files: Weight files by runtime, relative to the card.
    """

    name: str
    classes: tuple[str, ...]
    imgsz: tuple[int, int]
    default_conf: float = 0.25
    architecture: str = ""
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    files: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the card as plain YAML-ready data, keys in the documented order."""
        return {
            "name": self.name,
            "classes": list(self.classes),
            "imgsz": list(self.imgsz),
            "default_conf": self.default_conf,
            "architecture": self.architecture,
            "files": dict(self.files),
            "training": self.training,
            "metrics": self.metrics,
            "notes": list(self.notes),
        }

    def with_metrics(self, split_name: str, entry: Mapping[str, Any]) -> ModelCard:
        """Return a copy with ``metrics[split_name]`` set (replaced if present)."""
        return dataclasses.replace(self, metrics={**self.metrics, split_name: dict(entry)})

    def with_note(self, note: str) -> ModelCard:
        """Return a copy with ``note`` added, unless the card already has it."""
        return self if note in self.notes else dataclasses.replace(self, notes=(*self.notes, note))


def metrics_entry(
    result: EvaluationResult,
    *,
    source: str,
    trained_on: bool,
    data: Path | str,
    split: str,
    model: Path | str,
    conf: float,
    command: str,
) -> dict[str, Any]:
    """Turn an evaluation into a card's metrics entry.

    Raises:
        ValueError: ``source`` is not ``real`` or ``synthetic``.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    payload = result.to_dict()
    return {
        "source": source,
        "trained_on": trained_on,
        "map50": round(result.map50, 4),
        "map50_95": round(result.map50_95, 4),
        "classes": {
            name: {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}
            for name, metrics in payload["classes"].items()
        },
        "not_evaluated": payload["not_evaluated"],
        "data": str(data),
        "split": split,
        "images": result.images,
        "conf": conf,
        "best_f1_conf": round(result.best_f1_conf, 4),
        "model": str(model),
        "command": command,
        "evaluated": now(),
    }


def distinct(items: Iterable[T]) -> list[T]:
    """The items without repeats, in first-seen order (stages trained on the same data list it once)."""
    kept: list[T] = []
    for item in items:
        if item not in kept:
            kept.append(item)
    return kept


def now() -> str:
    """The current local time, ISO 8601 to the second, as cards record it."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def load_card(path: Path | str) -> ModelCard:
    """Read and check a card.yaml.

    Raises:
        CardError: The file is missing or a field is malformed.
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise CardError(path, "file", f"cannot read: {error}") from error
    if not isinstance(raw, dict):
        raise CardError(path, "(top level)", "expected a mapping")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise CardError(path, "name", f"expected a non-empty string, got {name!r}")
    classes = raw.get("classes")
    if not isinstance(classes, list) or not classes or not all(isinstance(c, str) for c in classes):
        raise CardError(path, "classes", f"expected a non-empty list of class names, got {classes!r}")
    imgsz = raw.get("imgsz")
    if not (isinstance(imgsz, list) and len(imgsz) == 2 and all(isinstance(v, int) and v > 0 for v in imgsz)):
        raise CardError(path, "imgsz", f"expected [height, width] in pixels, got {imgsz!r}")
    default_conf = raw.get("default_conf", 0.25)
    if not isinstance(default_conf, int | float) or not 0 <= default_conf <= 1:
        raise CardError(path, "default_conf", f"expected a number in [0, 1], got {default_conf!r}")
    metrics = raw.get("metrics") or {}
    for split_name, entry in metrics.items():
        if not isinstance(entry, dict) or entry.get("source") not in SOURCES:
            raise CardError(path, f"metrics.{split_name}.source", f"expected one of {', '.join(SOURCES)}")
    notes = raw.get("notes") or []
    return ModelCard(
        name=name,
        classes=tuple(classes),
        imgsz=(imgsz[0], imgsz[1]),
        default_conf=float(default_conf),
        architecture=str(raw.get("architecture") or ""),
        training=dict(raw.get("training") or {}),
        metrics=dict(metrics),
        notes=tuple(str(n) for n in (notes if isinstance(notes, list) else [notes])),
        files=dict(raw.get("files") or {}),
    )


def write_card(card: ModelCard, path: Path | str) -> Path:
    """Write ``card`` to ``path`` (card.yaml) and its rendering to README.md beside it.

    Returns:
        The README path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.dump(card.to_dict(), Dumper=_PlainDumper, allow_unicode=True, sort_keys=False, width=110)
    path.write_text(text, encoding="utf-8")
    readme = path.parent / "README.md"
    readme.write_text(render_readme(card), encoding="utf-8")
    return readme


class _PlainDumper(yaml.SafeDumper):
    """Writes repeated objects out in full: a card is read by people, who should not meet YAML anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render_readme(card: ModelCard, taxonomy: Taxonomy | None = None) -> str:
    """Render a card as a human-readable README (Markdown tables).

    Args:
        card: The card.
        taxonomy: Maps classes to violation types and event codes; ``None`` reads the default one.
    """
    if taxonomy is None:
        try:
            taxonomy = load_taxonomy()
        except TaxonomyError:
            taxonomy = None
    lines = [
        f"# {card.name}",
        "",
        "<!-- Generated from card.yaml by vision.training.card; edit card.yaml, not this file. -->",
        "",
        f"- Architecture: {card.architecture or 'unknown'}",
        f"- Input size (h x w): {card.imgsz[0]} x {card.imgsz[1]}",
        f"- Default confidence threshold: {card.default_conf}",
    ]
    lines += [f"- {runtime}: `{file}`" for runtime, file in card.files.items()]
    lines += ["", "## Classes", "", *_classes_table(card, taxonomy)]
    lines += ["", "## Metrics", "", *_metrics_section(card)]
    lines += ["", "## Training", "", *_training_section(card.training)]
    if card.notes:
        lines += ["", "## Notes", "", *[f"- {note}" for note in card.notes]]
    return "\n".join(lines) + "\n"


def _classes_table(card: ModelCard, taxonomy: Taxonomy | None) -> list[str]:
    rows = ["| id | class | object | violation type | event code |", "|---|---|---|---|---|"]
    for class_id, name in enumerate(card.classes):
        if taxonomy is not None and name in taxonomy:
            entry = taxonomy.get(name)
            event = f"{entry.event.code} {entry.event.name_zh}" if entry.event else "—"
            rows.append(
                f"| {class_id} | {name} | {entry.name_zh} / {entry.name_en} | {entry.violation.name_zh} | {event} |"
            )
        else:
            rows.append(f"| {class_id} | {name} | — | — | — |")
    return rows


def _metrics_section(card: ModelCard) -> list[str]:
    if not card.metrics:
        return ["No evaluation recorded yet. Add one with `xiuhua evaluate ... --card card.yaml`."]
    lines = [
        "| split | source | trained on | images | mAP50 | mAP50-95 |",
        "|---|---|---|---|---|---|",
    ]
    for split_name, entry in card.metrics.items():
        lines.append(
            f"| {split_name} | {entry.get('source')} | {'yes' if entry.get('trained_on') else 'no'} "
            f"| {entry.get('images', '')} | {_number(entry.get('map50'))} | {_number(entry.get('map50_95'))} |"
        )
    lines += [
        "",
        "Precision and recall are read at the one confidence where the class-mean F1 is highest (`best_f1_conf`);",
        "AP is COCO's 101-point interpolated AP. Synthetic splits measure the generator's world, not the street.",
    ]
    for split_name, entry in card.metrics.items():
        lines += ["", f"### {split_name}", ""]
        if entry.get("command"):
            lines += [f"Reproduce: `{entry['command']}`", ""]
        lines += ["| class | instances | precision | recall | AP50 | AP50-95 |", "|---|---|---|---|---|---|"]
        for name, metrics in (entry.get("classes") or {}).items():
            lines.append(
                f"| {name} | {metrics.get('instances')} | {_number(metrics.get('precision'))} "
                f"| {_number(metrics.get('recall'))} | {_number(metrics.get('ap50'))} "
                f"| {_number(metrics.get('ap50_95'))} |"
            )
        for name, reason in (entry.get("not_evaluated") or {}).items():
            lines.append(f"| {name} | — | — | — | — | not evaluated: {reason} |")
    return lines


def _training_section(training: Mapping[str, Any]) -> list[str]:
    if not training:
        return ["Not recorded."]
    lines = [f"- Data: {_describe(d)}" for d in distinct(training.get("data") or [])]
    for key in ("epochs", "imgsz", "seed", "started", "finished"):
        if training.get(key) is not None:
            lines.append(f"- {key.capitalize()}: {training[key]}")
    if training.get("command"):
        lines.append(f"- Command: `{training['command']}`")
    stages = training.get("stages") or []
    if stages:
        lines += [
            "",
            "| stage | start weights | data | epochs | imgsz | seed | finished |",
            "|---|---|---|---|---|---|---|",
        ]
        for number, stage in enumerate(stages, start=1):
            done = stage.get("epochs_completed", stage.get("epochs"))
            lines.append(
                f"| {number} | {stage.get('model')} | {_describe(stage.get('data') or {})} "
                f"| {done}/{stage.get('epochs')} | {stage.get('imgsz')} | {stage.get('seed')} "
                f"| {stage.get('finished') or 'not finished'} |"
            )
    return lines


def _describe(data: Mapping[str, Any]) -> str:
    parts = [str(data.get("yaml", "?"))]
    for key in ("kind", "source", "seed", "description"):
        if data.get(key) is not None:
            parts.append(f"{key} {data[key]}")
    return ", ".join(parts)


def _number(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) and not isinstance(value, bool) else "—"
