"""A small YOLO26n with random weights, for backend tests and benchmarks only: generated, never committed.

Untrained YOLO weights give every anchor the same tiny score, which would make a backend comparison meaningless.
So the random network is *calibrated*, not trained: batch-norm statistics are measured on a few synthetic
images (each layer then passes on unit-scale, image-dependent signals), the class biases are shifted so that the
top 0.1 % of class logits are confident, and the box head is scaled to predict positive box sides a few strides
long. The result outputs many distinct, image-dependent boxes of all classes and no meaningful objects.
Everything is seeded, so a build is deterministic on one machine.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import yaml

from vision.detect.runtime import ULTRALYTICS, import_runtime
from vision.errors import ModelError
from vision.synth.classes import CLASS_NAMES  # the product vocabulary, equal to models/taxonomy.yaml

ARCHITECTURE = "yolo26n.yaml"
FALLBACK_ARCHITECTURE = "yolo11n.yaml"
# Head calibration: class-logit spread and level, box-side spread and mean (in strides; sides stay positive).
LOGIT_SPREAD = 4.0
LOGIT_TOP = 0.0
BOX_GAIN = 0.4
BOX_SIDE = 2.0
RANDOM_NOTE = "Random (calibrated, untrained) weights for backend tests and benchmarks only: detects nothing real."


@dataclasses.dataclass(frozen=True)
class RandomModel:
    """The files of a generated model folder.

    Attributes:
        folder: ``<out_dir>/<name>/``, a model folder ``load_detector`` accepts.
        pytorch: ``<name>.pt``.
        onnx: ``<name>.onnx``, if exported.
        openvino: ``<name>_openvino_model/``, if exported.
        card: ``card.yaml``.
    """

    folder: Path
    pytorch: Path
    onnx: Path | None
    openvino: Path | None
    card: Path


def build_random_model(
    out_dir: Path | str,
    *,
    name: str = "random-yolo26n",
    imgsz: int = 320,
    seed: int = 0,
    formats: Sequence[str] = ("onnx", "openvino"),
    end2end: bool = True,
    dynamic: bool = True,
) -> RandomModel:
    """Build ``<out_dir>/<name>/`` with a random YOLO26n (11 xiuhua classes), its exports and a card.

    Args:
        out_dir: Where the model folder goes.
        name: The folder's and files' name.
        imgsz: Square input size of the exports and the card.
        seed: Seeds torch and the calibration images.
        formats: Exports to write: ``"onnx"`` and / or ``"openvino"``.
        end2end: Export the NMS-free head (``(B, 300, 6)``); else the classic output that needs NMS.
        dynamic: Export with dynamic batch and input size; else batch 1 at ``imgsz``.

    Returns:
        The files written.

    Raises:
        ModelError: ultralytics (the ``train`` extra) is not installed, or an export failed.
    """
    folder = Path(out_dir) / name
    folder.mkdir(parents=True, exist_ok=True)
    pytorch = folder / f"{name}.pt"
    architecture = write_random_checkpoint(pytorch, imgsz=imgsz, seed=seed)
    exports = {fmt: export_checkpoint(pytorch, fmt, imgsz=imgsz, end2end=end2end, dynamic=dynamic) for fmt in formats}
    card = folder / "card.yaml"
    card_data = {
        "name": name,
        "classes": list(CLASS_NAMES),
        "imgsz": [imgsz, imgsz],
        "default_conf": 0.25,
        "architecture": f"{architecture} with random calibrated weights (seed {seed})",
        "files": {"pytorch": pytorch.name, **{fmt: path.name for fmt, path in exports.items()}},
        "training": {"command": "vision.detect.random_model.build_random_model", "started": _now()},
        "notes": [RANDOM_NOTE, f"Exports: end2end={end2end}, dynamic={dynamic}."],
    }
    card.write_text(yaml.safe_dump(card_data, sort_keys=False), encoding="utf-8")
    return RandomModel(folder, pytorch, exports.get("onnx"), exports.get("openvino"), card)


def write_random_checkpoint(path: Path, *, imgsz: int = 320, seed: int = 0) -> str:
    """Write an ultralytics checkpoint of a calibrated random YOLO26n (YOLO11n if absent) with the 11 classes.

    Returns:
        The architecture config used.
    """
    import_runtime(ULTRALYTICS, path)
    import torch
    from ultralytics import __version__
    from ultralytics.nn.tasks import DetectionModel, yaml_model_load

    architecture = ARCHITECTURE
    try:
        config = yaml_model_load(architecture)
    except FileNotFoundError:
        architecture = FALLBACK_ARCHITECTURE
        config = yaml_model_load(architecture)
    torch.manual_seed(seed)
    model: Any = DetectionModel(copy.deepcopy(config), nc=len(CLASS_NAMES), verbose=False)
    model.names = dict(enumerate(CLASS_NAMES))
    _calibrate(model, torch.from_numpy(calibration_images(imgsz, seed)))
    model.task = "detect"
    checkpoint: dict[str, Any] = {
        "model": model,
        "train_args": {"imgsz": imgsz, "task": "detect", "model": architecture},
        "date": _now(),
        "version": __version__,
        "docs": RANDOM_NOTE,
    }
    torch.save(checkpoint, path)
    return architecture


def export_checkpoint(pytorch: Path, fmt: str, *, imgsz: int, end2end: bool = True, dynamic: bool = True) -> Path:
    """Export an ultralytics checkpoint beside itself (``<stem>.onnx`` or ``<stem>_openvino_model/``).

    Raises:
        ModelError: ultralytics is missing or the export failed.
    """
    ultralytics = import_runtime(ULTRALYTICS, pytorch)
    model = ultralytics.YOLO(str(pytorch), task="detect")
    try:
        written = model.export(
            format=fmt, imgsz=imgsz, nms=False if end2end else None, dynamic=dynamic, device="cpu", verbose=False
        )
    except Exception as error:  # ultralytics raises several types from its exporters
        raise ModelError(str(pytorch), f"{fmt} export failed: {error}") from error
    if not written:
        raise ModelError(str(pytorch), f"{fmt} export wrote nothing")
    return Path(written)


def synthetic_frame(height: int, width: int, seed: int) -> npt.NDArray[np.uint8]:
    """A textured ``(height, width, 3)`` BGR street-like test picture: smooth shading, colored blocks, sensor noise.

    Texture everywhere keeps a calibrated random network's activations in the range it was calibrated for.
    """
    rng = np.random.default_rng(seed)
    coarse = rng.integers(50, 200, (6, 8, 3), dtype=np.uint8)
    image = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC).astype(np.int16)
    for _ in range(int(rng.integers(4, 9))):
        box_w = int(rng.integers(max(width // 16, 2), max(width // 3, 3)))
        box_h = int(rng.integers(max(height // 16, 2), max(height // 3, 3)))
        x, y = int(rng.integers(0, width - box_w)), int(rng.integers(0, height - box_h))
        color = rng.integers(0, 256, 3).astype(np.int16)
        image[y : y + box_h, x : x + box_w] = (image[y : y + box_h, x : x + box_w] + 2 * color) // 3
    image += np.asarray(rng.normal(0, 8, size=image.shape)).astype(np.int16)
    return image.clip(0, 255).astype(np.uint8)


def calibration_images(imgsz: int, seed: int, count: int = 4) -> npt.NDArray[np.float32]:
    """``count`` synthetic frames as a ``(count, 3, imgsz, imgsz)`` RGB batch in ``[0, 1]``."""
    frames = [synthetic_frame(imgsz, imgsz, seed * 1000 + i)[:, :, ::-1].transpose(2, 0, 1) for i in range(count)]
    return np.stack(frames).astype(np.float32) / np.float32(255)


def _calibrate(model: Any, images: Any) -> None:
    """Measure batch-norm statistics on ``images``, then set the head's biases (see the module docstring)."""
    import torch

    norms = [module for module in model.modules() if isinstance(module, torch.nn.BatchNorm2d)]
    momentum = [module.momentum for module in norms]
    for module in norms:
        module.reset_running_stats()
        module.momentum = None  # a plain average over the calibration pass
    model.train()
    with torch.no_grad():
        model(images)
    model.eval()
    for module, value in zip(norms, momentum, strict=True):
        module.momentum = value
    head = model.model[-1]
    branches = [(head.cv2, head.cv3)]
    if getattr(head, "one2one_cv2", None) is not None:
        branches.append((head.one2one_cv2, head.one2one_cv3))
    with torch.no_grad():
        raw = model(images)[1]
        logits = raw.get("one2many", raw)["scores"].flatten().float()
        # logits' = gain * logits + shift, mapping the median to LOGIT_TOP - LOGIT_SPREAD and the top 0.1 % to
        # LOGIT_TOP (quantiles, not the deviation: the logits of a random network are heavy-tailed).
        median, top = (float(q) for q in torch.quantile(logits, torch.tensor([0.5, 0.999])))
        gain = LOGIT_SPREAD / (top - median)
        shift = LOGIT_TOP - gain * top
        for box_heads, class_heads in branches:
            for box_layers, class_layers in zip(box_heads, class_heads, strict=True):
                class_layers[-1].weight *= gain
                class_layers[-1].bias.mul_(gain).add_(shift)
                box_layers[-1].weight *= BOX_GAIN
                box_layers[-1].bias.fill_(BOX_SIDE)


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")
