"""Tiny YOLO datasets written in the test, and a fake detector that answers from a script."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import yaml

from vision.detect.base import ModelInfo
from vision.detections import Detections

Box = tuple[int, tuple[float, float, float, float]]  # (class id, pixel xyxy)


@dataclass(frozen=True)
class ImageSpec:
    """One image to write: its size and its labelled boxes (dataset class ids, pixels)."""

    boxes: Sequence[Box] = ()
    width: int = 96
    height: int = 64


def make_dataset(
    root: Path,
    names: Sequence[str],
    splits: dict[str, Sequence[ImageSpec]],
    *,
    names_as_dict: bool = False,
) -> Path:
    """Write images (marker in pixel (0, 0) = image number), labels and a data.yaml; return the yaml path.

    Images are numbered across splits in order, so the fake detector can tell them apart.
    """
    number = 0
    for split, specs in splits.items():
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        for spec in specs:
            image = np.full((spec.height, spec.width, 3), 60, np.uint8)
            lines = []
            for class_id, (x1, y1, x2, y2) in spec.boxes:
                color = (40 + 50 * class_id) % 256
                cv2.rectangle(image, (int(x1), int(y1)), (int(x2) - 1, int(y2) - 1), (color, 255 - color, 128), -1)
                cx, cy = (x1 + x2) / 2 / spec.width, (y1 + y2) / 2 / spec.height
                w, h = (x2 - x1) / spec.width, (y2 - y1) / spec.height
                lines.append(f"{class_id} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n")
            image[0, 0] = (number, number, number)
            cv2.imwrite(str(root / "images" / split / f"im{number:03d}.png"), image)
            (root / "labels" / split / f"im{number:03d}.txt").write_text("".join(lines), encoding="utf-8")
            number += 1
    data = {
        "path": ".",
        **{split: f"images/{split}" for split in splits},
        "names": dict(enumerate(names)) if names_as_dict else list(names),
    }
    yaml_path = root / "data.yaml"
    yaml_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return yaml_path


def detections(rows: Sequence[tuple[int, float, tuple[float, float, float, float]]]) -> Detections:
    """Build Detections from ``(class id, confidence, xyxy)`` rows."""
    if not rows:
        return Detections.empty()
    return Detections(
        xyxy=np.array([r[2] for r in rows], np.float32),
        confidence=np.array([r[1] for r in rows], np.float32),
        class_id=np.array([r[0] for r in rows], np.int64),
    )


@dataclass
class FakeDetector:
    """Answers each image with the detections scripted for its number (pixel (0, 0))."""

    names: tuple[str, ...]
    script: dict[int, Detections] = field(default_factory=dict)
    calls: list[float | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.info = ModelInfo(Path("fake.pt"), "fake", self.names, (64, 64))

    def detect(self, images: Sequence[npt.NDArray[np.uint8]], conf: float | None = None) -> list[Detections]:
        self.calls.append(conf)
        threshold = self.info.default_conf if conf is None else conf
        out = []
        for image in images:
            found = self.script.get(int(image[0, 0, 0]), Detections.empty())
            out.append(found[found.confidence >= threshold])
        return out
