"""Exporting trained weights into ``models/<name>/``: a slim .pt, ONNX, OpenVINO, and the model card.

``models/<name>/`` receives:

- ``<name>.pt``: the checkpoint without optimizer state, weights in FP16 (ultralytics ``strip_optimizer``);
- ``<name>.onnx``: FP32, static input ``imgsz`` x ``imgsz``, YOLO26's NMS-free head (output ``(1, 300, 6)``);
- ``<name>_openvino_model/``: OpenVINO IR of any input size (video frames can take a smaller, rectangular input:
  see ``vision.detect.letterbox``) with FP16 weights, unless a check on data shows FP16 loses accuracy (mAP50-95
  lower than the ONNX model's by more than ``fp16_tolerance``), in which case FP32;
- ``card.yaml`` + ``README.md``: the training run's card (found beside the weights' run folder) updated with
  files, input size and architecture. Metrics already in an earlier card of the same training are kept; its notes
  (the history of the stages) are kept too when the new weights continue that training (the earlier card's stages
  begin the new card's), while its metrics, which describe the earlier weights, are not; with a check data.yaml,
  the shipped OpenVINO model's val numbers replace the run's entry of that name, so every number can be
  re-checked from ``models/<name>/`` alone.
"""

from __future__ import annotations

import dataclasses
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vision.errors import ModelError
from vision.training.card import ModelCard, load_card, metrics_entry, write_card
from vision.training.dataset import load_data_yaml
from vision.training.evaluate import EvaluationResult, evaluate_detector
from vision.training.train import data_source, describe_architecture, original_data_yaml
from vision.training.ultralytics_env import import_ultralytics, torch_load

PRECISION_NOTE_PREFIX = "OpenVINO weights:"
CHECK_CONF = 0.001


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote.

    Attributes:
        out_dir: ``models/<name>/``.
        pytorch: The slim checkpoint.
        onnx: The ONNX model.
        openvino: The OpenVINO model folder.
        openvino_precision: ``"fp16"`` or ``"fp32"``.
        card: The card.yaml written.
        fp16_check: mAP50-95 of ONNX FP32 and OpenVINO FP16 on the check data, if it was run.
    """

    out_dir: Path
    pytorch: Path
    onnx: Path
    openvino: Path
    openvino_precision: str
    card: Path
    fp16_check: dict[str, float] | None = None


def export_model(
    weights: Path,
    out_dir: Path,
    *,
    imgsz: int = 640,
    check_data: Path | None = None,
    fp16_tolerance: float = 0.005,
    default_conf: float | None = None,
) -> ExportResult:
    """Export ``weights`` into ``out_dir`` (see the module docstring).

    Args:
        weights: A training checkpoint, e.g. ``runs/train/<run>/weights/best.pt``.
        out_dir: The model folder; its name names the files.
        imgsz: Square input size of the ONNX and OpenVINO models.
        check_data: A data.yaml whose val split checks that OpenVINO FP16 keeps accuracy; ``None`` skips the check.
        fp16_tolerance: Largest acceptable mAP50-95 drop of FP16 against ONNX FP32.
        default_conf: Score threshold to recommend in the card; ``None`` keeps the card's (0.25 if new).

    Returns:
        What was written.

    Raises:
        ModelError: ``weights`` is missing or not an ultralytics checkpoint, or an export failed.
    """
    checkpoint = torch_load(weights)  # checks the file before anything is written
    name = out_dir.name
    out_dir.mkdir(parents=True, exist_ok=True)
    yolo = import_ultralytics()
    from ultralytics.utils.torch_utils import strip_optimizer

    pytorch = out_dir / f"{name}.pt"
    strip_optimizer(weights, s=str(pytorch))
    model = yolo.YOLO(str(pytorch))
    onnx = Path(_export(model, "onnx", imgsz, fp16=False))
    openvino = Path(_export(model, "openvino", imgsz, fp16=True))
    precision, fp16_check, shipped = "fp16", None, None
    if check_data is not None:
        results = {"onnx_fp32": _evaluate(onnx, check_data), "openvino_fp16": _evaluate(openvino, check_data)}
        fp16_check = {key: round(result.map50_95, 4) for key, result in results.items()}
        shipped = results["openvino_fp16"]
        if fp16_check["onnx_fp32"] - fp16_check["openvino_fp16"] > fp16_tolerance:
            openvino = Path(_export(model, "openvino", imgsz, fp16=False))
            precision, shipped = "fp32", _evaluate(openvino, check_data)
    card = _card(weights, out_dir, checkpoint, imgsz, default_conf)
    files = {"pytorch": pytorch.name, "onnx": onnx.name, f"openvino ({precision})": openvino.name}
    card = dataclasses.replace(card, files=files)
    card = card.with_note(_precision_note(precision, fp16_check, check_data, fp16_tolerance))
    if check_data is not None and shipped is not None:
        card = _with_shipped_metrics(card, shipped, openvino, check_data)
    card_path = out_dir / "card.yaml"
    write_card(card, card_path)
    return ExportResult(out_dir, pytorch, onnx, openvino, precision, card_path, fp16_check)


def _export(model: Any, fmt: str, imgsz: int, *, fp16: bool) -> str:
    from ultralytics.cfg import DEFAULT_CFG_DICT

    options: dict[str, Any] = {"quantize": 16 if fp16 else None} if "quantize" in DEFAULT_CFG_DICT else {"half": fp16}
    # nms=False keeps YOLO26's NMS-free (end-to-end) head, so every runtime predicts as the .pt does; the output
    # is then (1, 300, 6) rows of x1 y1 x2 y2 score class, recorded as end2end in the model's metadata.
    options["nms"] = False
    # OpenVINO takes any input size, so a scan can letterbox 16:9 frames into a third less input; the ONNX model
    # stays fixed-size (onnxruntime runs fixed shapes faster).
    dynamic = fmt == "openvino"
    try:
        path = model.export(format=fmt, imgsz=imgsz, device="cpu", simplify=True, dynamic=dynamic, **options)
    except Exception as error:  # ultralytics wraps exporter failures in several types
        raise ModelError(str(model.ckpt_path), f"{fmt} export failed: {error}") from error
    if not path:
        raise ModelError(str(model.ckpt_path), f"{fmt} export produced nothing")
    return str(path)


def _evaluate(model: Path, data: Path) -> EvaluationResult:
    try:
        from vision.detect import load_detector
    except ImportError as error:
        raise ModelError("vision.detect", f"no detector backend to check the exports with: {error}") from error
    detector = load_detector(model, device="cpu", conf=CHECK_CONF)
    return evaluate_detector(detector, data, split="val", conf=CHECK_CONF)


def _with_shipped_metrics(card: ModelCard, result: EvaluationResult, model: Path, data: Path) -> ModelCard:
    """Record the shipped OpenVINO model's val numbers, so the card can be re-checked from models/<name>/ alone."""
    spec = load_data_yaml(data)
    original = original_data_yaml(spec)
    split_name = f"{original.parent.name}-val"
    entry = metrics_entry(
        result,
        source=data_source(spec),
        trained_on=False,
        data=data,
        split="val",
        model=model,
        conf=CHECK_CONF,
        command=shlex.join(["xiuhua", "evaluate", "--model", str(model), "--data", str(data), "--split", "val"]),
    )
    if card.metrics.get(split_name, {}).get("used_for_selection"):
        entry["used_for_selection"] = True
    return card.with_metrics(split_name, entry)


def _card(
    weights: Path, out_dir: Path, checkpoint: dict[str, Any], imgsz: int, default_conf: float | None
) -> ModelCard:
    # A mid-run last.pt keeps the weights only in "ema" (ultralytics saves model=None until the run ends).
    names = (checkpoint.get("model") or checkpoint["ema"]).names
    classes = tuple(names[i] for i in range(len(names))) if isinstance(names, dict) else tuple(names)
    run_card = next(
        (p for p in (weights.parent.parent / "card.yaml", weights.parent / "card.yaml") if p.is_file()), None
    )
    card = load_card(run_card) if run_card else ModelCard(name=out_dir.name, classes=classes, imgsz=(imgsz, imgsz))
    card = dataclasses.replace(
        card,
        name=out_dir.name,
        classes=classes,
        imgsz=(imgsz, imgsz),
        architecture=describe_architecture(weights),
        default_conf=card.default_conf if default_conf is None else default_conf,
    )
    previous_path = out_dir / "card.yaml"
    if previous_path.is_file():
        previous = load_card(previous_path)
        before, after = previous.training.get("stages") or [], card.training.get("stages") or []
        if before == after:  # the same training: keep its evaluations
            card = dataclasses.replace(card, metrics={**previous.metrics, **card.metrics})
        if before == after or (before and after[: len(before)] == before):  # same training or continuing it: history
            for note in previous.notes:
                if not note.startswith(PRECISION_NOTE_PREFIX):  # replaced by this export's
                    card = card.with_note(note)
    return card


def _precision_note(precision: str, check: dict[str, float] | None, data: Path | None, tolerance: float) -> str:
    if check is None:
        return f"{PRECISION_NOTE_PREFIX} FP16, not checked against data (export with a check data.yaml to check)."
    return (
        f"{PRECISION_NOTE_PREFIX} {precision.upper()}. On {data} val, mAP50-95 ONNX FP32 {check['onnx_fp32']:.4f}, "
        f"OpenVINO FP16 {check['openvino_fp16']:.4f} (FP16 kept if the drop is <= {tolerance})."
    )
