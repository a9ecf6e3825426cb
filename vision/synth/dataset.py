"""Writes a YOLO dataset of synthetic street scenes: images/{train,val}, labels/{train,val}, data.yaml."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from vision.detections import Detections
from vision.synth.classes import CLASS_NAMES
from vision.synth.effects import encode_jpeg
from vision.synth.parallel import run_jobs
from vision.synth.sample import DEFAULT_SIZE, make_sample

GENERATOR_VERSION = 5  # bump when the same seed starts giving different images or labels


@dataclass(frozen=True)
class DatasetSummary:
    """What ``write_dataset`` wrote.

    Attributes:
        out: Dataset root.
        data_yaml: Path of ``data.yaml``.
        train: Number of training images.
        val: Number of validation images.
        boxes_per_class: Box count per class id.
        images_per_class: Number of images containing each class id.
        seconds: Wall-clock time taken.
    """

    out: Path
    data_yaml: Path
    train: int
    val: int
    boxes_per_class: tuple[int, ...]
    images_per_class: tuple[int, ...]
    seconds: float


def is_val(index: int, val_fraction: float) -> bool:
    """Whether image ``index`` goes to the validation split (exactly ``round`` of the fraction, spread evenly)."""
    return math.floor((index + 1) * val_fraction) > math.floor(index * val_fraction)


def yolo_lines(truth: Detections, width: int, height: int) -> list[str]:
    """YOLO label lines ``class cx cy w h`` (normalised to the image) for boxes in pixels."""
    lines = []
    for (x0, y0, x1, y1), class_id in zip(truth.xyxy.tolist(), truth.class_id.tolist(), strict=True):
        cx, cy = (x0 + x1) / 2 / width, (y0 + y1) / 2 / height
        w, h = (x1 - x0) / width, (y1 - y0) / height
        lines.append(f"{class_id} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}")
    return lines


def image_stem(seed: int, index: int) -> str:
    """File name (without extension) of image ``index`` of dataset ``seed``."""
    return f"synth_{seed}_{index:06d}"


def _write_one(job: tuple[Path, int, int, tuple[int, int], float]) -> list[int]:
    out, seed, index, size, val_fraction = job
    sample = make_sample(seed, index, size)
    split = "val" if is_val(index, val_fraction) else "train"
    stem = image_stem(seed, index)
    (out / "images" / split / f"{stem}.jpg").write_bytes(encode_jpeg(sample.image, sample.jpeg_quality))
    text = "\n".join(yolo_lines(sample.truth, size[0], size[1]))
    (out / "labels" / split / f"{stem}.txt").write_text(text + ("\n" if text else ""))
    return sample.truth.class_id.tolist()


def write_dataset(
    out: Path,
    seed: int,
    count: int,
    size: tuple[int, int] = DEFAULT_SIZE,
    val_fraction: float = 0.1,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> DatasetSummary:
    """Render ``count`` images of dataset ``seed`` into a YOLO dataset at ``out``.

    Image ``i`` depends only on ``(seed, i, size)``, so the result is the same for any ``workers``.

    Args:
        out: Dataset root (created).
        seed: Dataset seed.
        count: Number of images.
        size: ``(width, height)`` of the images.
        val_fraction: Share of images in the validation split.
        workers: Processes rendering in parallel.
        progress: Called with the number of images done after each one.
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    if not 0.0 <= val_fraction <= 1.0:
        raise ValueError(f"val_fraction must be in [0, 1], got {val_fraction}")
    started = time.perf_counter()
    for part in ("images", "labels"):
        for split in ("train", "val"):
            (out / part / split).mkdir(parents=True, exist_ok=True)
    boxes = np.zeros(len(CLASS_NAMES), np.int64)
    images = np.zeros(len(CLASS_NAMES), np.int64)
    jobs = [(out, seed, index, size, val_fraction) for index in range(count)]
    for done, class_ids in enumerate(run_jobs(_write_one, jobs, workers), start=1):
        np.add.at(boxes, class_ids, 1)
        images[sorted(set(class_ids))] += 1
        if progress is not None:
            progress(done)
    val = sum(is_val(i, val_fraction) for i in range(count))
    data_yaml = write_data_yaml(out)
    summary = DatasetSummary(out, data_yaml, count - val, val, tuple(boxes.tolist()), tuple(images.tolist()),
                             time.perf_counter() - started)  # fmt: skip
    _write_manifest(out, seed, count, size, val_fraction, summary)
    return summary


def _write_manifest(
    out: Path, seed: int, count: int, size: tuple[int, int], val_fraction: float, summary: DatasetSummary
) -> None:
    """``synth.json``: how the dataset was made and what is in it."""
    manifest = {
        "generator": "xiuhua synth scenes",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "count": count,
        "size": list(size),
        "val_fraction": val_fraction,
        "train": summary.train,
        "val": summary.val,
        "boxes_per_class": dict(zip(CLASS_NAMES, summary.boxes_per_class, strict=True)),
        "images_per_class": dict(zip(CLASS_NAMES, summary.images_per_class, strict=True)),
    }
    (out / "synth.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


def write_data_yaml(out: Path) -> Path:
    """Write the ultralytics ``data.yaml`` of a dataset rooted at ``out``."""
    data = {
        "path": str(out.resolve()),
        "train": "images/train",
        "val": "images/val",
        "nc": len(CLASS_NAMES),
        "names": dict(enumerate(CLASS_NAMES)),
    }
    path = out / "data.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path
