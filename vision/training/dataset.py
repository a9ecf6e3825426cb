"""Reading a YOLO-format dataset from its data.yaml: class names, split images, and their labels.

Conventions followed (those of ultralytics, so one data.yaml serves training and our evaluator):

- ``names`` is a list, or a mapping ``{id: name}`` with ids ``0..n-1``.
- ``path`` is the dataset root; a relative ``path`` is relative to the data.yaml's folder (ultralytics would
  read it relative to the working directory; :func:`resolved_data_yaml` writes a copy with an absolute root for it).
  Without ``path`` the root is the data.yaml's folder.
- A split entry (``train``, ``val``, ``test``) is a folder of images (searched recursively), a ``.txt`` list of
  image paths (relative lines are relative to the list's folder), a single image, or a list of those.
- The labels of ``.../images/.../x.jpg`` are in ``.../labels/.../x.txt``: ``class cx cy w h`` normalised to
  ``[0, 1]``, or ``class x1 y1 x2 y2 ...`` polygons, which count as their bounding box.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

from vision.errors import VisionError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


@dataclass(frozen=True)
class DataSpec:
    """A dataset as its data.yaml describes it.

    Attributes:
        yaml_path: The data.yaml read.
        root: The dataset root that split entries are relative to.
        names: Class names in the dataset's own id order.
        splits: Split name -> its entries (folders, .txt lists or images), resolved to absolute paths.
        extra: The data.yaml's other keys (``source``, ``seed``, ...), kept for model cards.
    """

    yaml_path: Path
    root: Path
    names: tuple[str, ...]
    splits: dict[str, tuple[Path, ...]]
    extra: dict[str, Any] = field(default_factory=dict)

    def images(self, split: str) -> list[Path]:
        """Return the images of ``split``, sorted.

        Raises:
            VisionError: The split is not in the data.yaml, an entry does not exist, or it holds no images.
        """
        if split not in self.splits:
            known = ", ".join(self.splits) or "none"
            raise VisionError(f"{self.yaml_path}: {split}: no such split (splits given: {known})")
        images: list[Path] = []
        for entry in self.splits[split]:
            images.extend(_entry_images(entry, self.yaml_path, split))
        if not images:
            raise VisionError(
                f"{self.yaml_path}: {split}: no images found in {', '.join(map(str, self.splits[split]))}"
            )
        return sorted(set(images))


@dataclass(frozen=True)
class Labels:
    """The ground-truth boxes of one image, in pixels.

    Attributes:
        xyxy: ``(M, 4)`` float32 boxes, x first.
        class_id: ``(M,)`` int64 class ids in the dataset's numbering.
    """

    xyxy: npt.NDArray[np.float32]
    class_id: npt.NDArray[np.int64]


def load_data_yaml(path: Path | str) -> DataSpec:
    """Read a data.yaml.

    Args:
        path: The data.yaml file.

    Returns:
        The dataset description with absolute split paths.

    Raises:
        VisionError: The file is missing or malformed; the message names the file and field.
    """
    yaml_path = Path(path).resolve()
    try:
        raw = yaml.safe_load(yaml_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise VisionError(f"{yaml_path}: cannot read data.yaml: {error}") from error
    if not isinstance(raw, dict):
        raise VisionError(f"{yaml_path}: expected a mapping at the top level")
    names = _names(raw.get("names"), yaml_path)
    root_value = raw.get("path")
    root = yaml_path.parent if not root_value else (yaml_path.parent / str(root_value)).resolve()
    splits: dict[str, tuple[Path, ...]] = {}
    for split in ("train", "val", "test"):
        value = raw.get(split)
        if value is None or value == "":
            continue
        entries = value if isinstance(value, list) else [value]
        if not all(isinstance(e, str) for e in entries):
            raise VisionError(f"{yaml_path}: {split}: expected a path or a list of paths, got {value!r}")
        splits[split] = tuple((root / e).resolve() for e in entries)
    extra = {k: v for k, v in raw.items() if k not in {"names", "nc", "path", "train", "val", "test"}}
    return DataSpec(yaml_path, root, names, splits, extra)


def resolved_data_yaml(spec: DataSpec, out: Path) -> Path:
    """Write a copy of the data.yaml with an absolute root and names as a list, for ultralytics.

    Args:
        spec: The dataset.
        out: The file to write.

    Returns:
        ``out``.
    """
    data: dict[str, Any] = {"path": str(spec.root)}
    for split, entries in spec.splits.items():
        data[split] = [str(e) for e in entries] if len(entries) > 1 else str(entries[0])
    data["names"] = list(spec.names)
    data.update({k: v for k, v in spec.extra.items() if k != "download"})  # never let ultralytics download
    data["source_yaml"] = str(spec.yaml_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


def label_path(image: Path) -> Path:
    """Return where the label file of ``image`` is: the last ``/images/`` in its path becomes ``/labels/``."""
    text = str(image)
    marker, replacement = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    if marker in text:
        head, tail = text.rsplit(marker, 1)
        text = head + replacement + tail
    return Path(text).with_suffix(".txt")


def read_labels(label_file: Path, width: int, height: int) -> Labels:
    """Read one YOLO label file and convert its boxes to pixels of a ``width`` x ``height`` image.

    A missing file means an image without objects.

    Raises:
        VisionError: A line is malformed; the message names the file and line.
    """
    if not label_file.exists():
        return Labels(np.zeros((0, 4), np.float32), np.zeros(0, np.int64))
    boxes: list[list[float]] = []
    classes: list[int] = []
    for number, line in enumerate(label_file.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            class_id, values = int(fields[0]), [float(v) for v in fields[1:]]
        except ValueError as error:
            raise VisionError(f"{label_file}:{number}: malformed label line {line!r}") from error
        if len(values) == 4:
            cx, cy, w, h = values
            box = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]
        elif len(values) >= 6 and len(values) % 2 == 0:  # a polygon: its bounding box
            xs, ys = values[0::2], values[1::2]
            box = [min(xs), min(ys), max(xs), max(ys)]
        else:
            raise VisionError(f"{label_file}:{number}: expected 'class cx cy w h' or a polygon, got {line!r}")
        boxes.append(box)
        classes.append(class_id)
    scale = np.array([width, height, width, height], np.float32)
    xyxy = np.clip(np.asarray(boxes, np.float32).reshape(-1, 4), 0.0, 1.0) * scale
    return Labels(xyxy.astype(np.float32), np.asarray(classes, np.int64))


def _names(value: Any, yaml_path: Path) -> tuple[str, ...]:
    if isinstance(value, list) and value and all(isinstance(n, str) for n in value):
        return tuple(value)
    if isinstance(value, dict) and value:
        try:
            ids = sorted(int(k) for k in value)
        except (TypeError, ValueError) as error:
            raise VisionError(f"{yaml_path}: names: keys must be class ids, got {list(value)}") from error
        if ids != list(range(len(ids))):
            raise VisionError(f"{yaml_path}: names: ids must be 0..{len(ids) - 1}, got {ids}")
        by_id = {int(k): v for k, v in value.items()}
        return tuple(str(by_id[i]) for i in ids)
    raise VisionError(f"{yaml_path}: names: expected a non-empty list or {{id: name}} mapping, got {value!r}")


def _entry_images(entry: Path, yaml_path: Path, split: str) -> list[Path]:
    if entry.is_dir():
        return [p for p in entry.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    if entry.suffix.lower() == ".txt" and entry.is_file():
        images = []
        for line in entry.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line:
                images.append((entry.parent / line).resolve())
        return images
    if entry.suffix.lower() in IMAGE_SUFFIXES and entry.is_file():
        return [entry]
    raise VisionError(f"{yaml_path}: {split}: {entry} does not exist or is not a folder, .txt list or image")
