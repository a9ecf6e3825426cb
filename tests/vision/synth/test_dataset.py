"""The scenes dataset: deterministic, valid YOLO labels, every class present."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vision.synth.classes import CLASS_NAMES
from vision.synth.dataset import is_val, write_dataset, yolo_lines
from vision.synth.sample import make_sample
from vision.taxonomy import load_taxonomy
from vision.training.dataset import label_path, load_data_yaml, read_labels

SMALL = (320, 180)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_class_names_are_the_product_taxonomy() -> None:
    assert load_taxonomy().class_names == CLASS_NAMES


def test_same_seed_same_sample_and_other_seed_differs() -> None:
    first, again = make_sample(11, 2, SMALL), make_sample(11, 2, SMALL)
    assert np.array_equal(first.image, again.image)
    assert np.array_equal(first.truth.xyxy, again.truth.xyxy)
    assert not np.array_equal(first.image, make_sample(12, 2, SMALL).image)


def test_dataset_is_byte_identical_whatever_the_workers(tmp_path: Path) -> None:
    write_dataset(tmp_path / "one", seed=5, count=4, size=SMALL, val_fraction=0.25, workers=1)
    write_dataset(tmp_path / "two", seed=5, count=4, size=SMALL, val_fraction=0.25, workers=2)
    one, two = _files(tmp_path / "one"), _files(tmp_path / "two")
    one.pop("data.yaml"), two.pop("data.yaml")  # holds the absolute root
    assert one == two


def test_dataset_loads_as_yolo_with_labels_inside_images(tmp_path: Path) -> None:
    summary = write_dataset(tmp_path, seed=3, count=10, size=SMALL, val_fraction=0.2)
    spec = load_data_yaml(summary.data_yaml)
    assert spec.names == CLASS_NAMES
    train, val = spec.images("train"), spec.images("val")
    assert (len(train), len(val)) == (8, 2) == (summary.train, summary.val)
    total = 0
    for image_path in train + val:
        with Image.open(image_path) as image:
            assert image.size == SMALL
        label_file = label_path(image_path)
        assert label_file.exists()
        for line in label_file.read_text().splitlines():
            class_id, cx, cy, w, h = line.split()
            assert 0 <= int(class_id) < len(CLASS_NAMES)
            values = [float(cx), float(cy), float(w), float(h)]
            assert all(0.0 <= v <= 1.0 for v in values)
            assert float(cx) - float(w) / 2 >= -1e-6 and float(cx) + float(w) / 2 <= 1 + 1e-6
        labels = read_labels(label_file, *SMALL)
        total += len(labels.class_id)
    assert total == sum(summary.boxes_per_class) > 0


def test_labels_match_the_rendered_boxes() -> None:
    sample = make_sample(4, 0, SMALL)
    lines = yolo_lines(sample.truth, *SMALL)
    assert len(lines) == len(sample.truth)
    for line, box, class_id in zip(lines, sample.truth.xyxy, sample.truth.class_id, strict=True):
        fields = line.split()
        assert int(fields[0]) == class_id
        assert float(fields[1]) * SMALL[0] == pytest.approx((box[0] + box[2]) / 2, abs=0.01)
        assert box[0] >= 0 and box[1] >= 0 and box[2] <= SMALL[0] and box[3] <= SMALL[1]
        assert box[2] - box[0] >= 8 and box[3] - box[1] >= 8


def test_every_class_appears_in_a_small_batch() -> None:
    seen: set[int] = set()
    for index in range(40):
        seen.update(make_sample(21, index, (640, 360)).truth.class_id.tolist())
        if len(seen) == len(CLASS_NAMES):
            break
    missing = [CLASS_NAMES[c] for c in range(len(CLASS_NAMES)) if c not in seen]
    assert not missing, f"classes never drawn: {missing}"


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.25, 0.5])
def test_val_split_takes_the_asked_share(fraction: float) -> None:
    count = 200
    assert sum(is_val(i, fraction) for i in range(count)) == round(count * fraction)


def test_held_out_set_puts_every_image_in_val(tmp_path: Path) -> None:
    summary = write_dataset(tmp_path, seed=9, count=3, size=SMALL, val_fraction=1.0)
    assert (summary.train, summary.val) == (0, 3)
    assert len(load_data_yaml(summary.data_yaml).images("val")) == 3
