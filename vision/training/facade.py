"""The real facade photos (../shared/data/facade-ads) as a YOLO dataset in our class vocabulary.

The split is fixed by a hash of each file's name, so every machine and every later session gets the same
train / val / test images without storing a list, and adding photos never moves old ones between splits.
"""

from __future__ import annotations

import hashlib
import shutil
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from vision.errors import VisionError

# The source dataset's own numbering (its README): 0 window, 1 cantilever, 2 arch, 3 signboard, 4 win_ad, 5 door.
FACADE_SOURCE_NAMES: tuple[str, ...] = ("window", "cantilever", "arch", "signboard", "win_ad", "door")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
SPLITS = ("train", "val", "test")


def split_of(stem: str) -> str:
    """Return the split a photo belongs to: 70% train, 15% val, 15% test, by a hash of its file stem."""
    bucket = int(hashlib.sha1(stem.encode("utf-8")).hexdigest(), 16) % 100
    if bucket < 70:
        return "train"
    return "val" if bucket < 85 else "test"


@dataclass(frozen=True)
class FacadeDataset:
    """Where the prepared dataset went and what is in it.

    Attributes:
        data_yaml: The ultralytics-style data.yaml written.
        images: Number of images per split.
        instances: Number of kept boxes per class name, over all splits.
    """

    data_yaml: Path
    images: dict[str, int]
    instances: dict[str, int]


def prepare_facade_dataset(source: Path, out: Path, names: Sequence[str]) -> FacadeDataset:
    """Copy the facade photos into ``out`` with labels renumbered to ``names``.

    Boxes of source classes that are not in ``names`` (window, arch, door: context, not violations) are dropped.

    Args:
        source: The facade-ads folder, holding ``images/`` and ``labels/``.
        out: The dataset folder to (re)write.
        names: Our class vocabulary, in class-id order.

    Returns:
        A summary of what was written.

    Raises:
        VisionError: The source folder lacks images or labels, or a label line is malformed.
    """
    image_dir, label_dir = source / "images", source / "labels"
    if not image_dir.is_dir() or not label_dir.is_dir():
        raise VisionError(f"{source}: expected images/ and labels/ folders of a YOLO dataset")
    images = sorted(p for p in image_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise VisionError(f"{image_dir}: no images found")
    remap = {i: names.index(n) for i, n in enumerate(FACADE_SOURCE_NAMES) if n in names}
    counts: Counter[str] = Counter()
    per_split: Counter[str] = Counter()
    for split in SPLITS:
        for kind in ("images", "labels"):
            shutil.rmtree(out / kind / split, ignore_errors=True)
            (out / kind / split).mkdir(parents=True, exist_ok=True)
    for image in images:
        split = split_of(image.stem)
        lines = _remap_labels(label_dir / f"{image.stem}.txt", remap)
        shutil.copyfile(image, out / "images" / split / image.name)
        (out / "labels" / split / f"{image.stem}.txt").write_text("".join(lines), encoding="utf-8")
        per_split[split] += 1
        counts.update(names[int(line.split()[0])] for line in lines)
    data_yaml = out / "data.yaml"
    data = {
        "path": str(out.resolve()),
        **{split: f"images/{split}" for split in SPLITS},
        "names": dict(enumerate(names)),
        "source": f"{source} (real photos, CC0, Urban-Research-Lab building-facades-advertising-dataset)",
        "split_rule": "sha1(file stem) % 100: <70 train, <85 val, else test",
    }
    data_yaml.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return FacadeDataset(data_yaml=data_yaml, images=dict(per_split), instances=dict(counts))


def _remap_labels(label_file: Path, remap: dict[int, int]) -> list[str]:
    if not label_file.exists():
        return []  # an image with no label file is a background image in YOLO convention
    kept = []
    for number, line in enumerate(label_file.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            class_id, box = int(fields[0]), [float(v) for v in fields[1:5]]
        except ValueError as error:
            raise VisionError(f"{label_file}:{number}: malformed YOLO label line {line!r}") from error
        if len(fields) != 5:
            raise VisionError(f"{label_file}:{number}: expected 5 fields, got {len(fields)}")
        if class_id in remap:
            kept.append(f"{remap[class_id]} " + " ".join(f"{v:.6f}" for v in box) + "\n")
    return kept
