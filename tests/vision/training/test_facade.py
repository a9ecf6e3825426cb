from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from vision.errors import VisionError
from vision.training.facade import prepare_facade_dataset, split_of

NAMES = ["vendor_stall", "signboard", "cantilever", "win_ad"]


def make_source(root: Path, labels: dict[str, str]) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    for stem, text in labels.items():
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(root / "images" / f"{stem}.jpg")
        (root / "labels" / f"{stem}.txt").write_text(text)
    return root


def test_split_is_stable_and_roughly_70_15_15() -> None:
    stems = [f"img_{i}" for i in range(2000)]
    splits = [split_of(s) for s in stems]
    assert splits == [split_of(s) for s in stems]
    shares = {name: splits.count(name) / len(splits) for name in ("train", "val", "test")}
    assert shares["train"] == pytest.approx(0.70, abs=0.04)
    assert shares["val"] == pytest.approx(0.15, abs=0.03)
    assert shares["test"] == pytest.approx(0.15, abs=0.03)


def test_labels_are_renumbered_by_name_and_context_classes_dropped(tmp_path: Path) -> None:
    # Source ids: 0 window, 1 cantilever, 2 arch, 3 signboard, 4 win_ad, 5 door.
    source = make_source(
        tmp_path / "src",
        {"a": "0 0.5 0.5 0.1 0.1\n3 0.4 0.4 0.2 0.1\n1 0.2 0.2 0.1 0.1\n4 0.7 0.7 0.1 0.1\n"},
    )
    result = prepare_facade_dataset(source, tmp_path / "out", NAMES)
    split = split_of("a")
    label = (tmp_path / "out" / "labels" / split / "a.txt").read_text().split("\n")
    assert [line.split()[0] for line in label if line] == ["1", "2", "3"]
    assert result.instances == {"signboard": 1, "cantilever": 1, "win_ad": 1}
    assert (tmp_path / "out" / "images" / split / "a.jpg").exists()
    data = yaml.safe_load(result.data_yaml.read_text())
    assert data["names"] == dict(enumerate(NAMES))
    assert data["test"] == "images/test"


def test_malformed_label_names_file_and_line(tmp_path: Path) -> None:
    source = make_source(tmp_path / "src", {"bad": "3 0.5 0.5 0.1 0.1\n3 0.5 oops 0.1 0.1\n"})
    with pytest.raises(VisionError, match=r"bad\.txt:2"):
        prepare_facade_dataset(source, tmp_path / "out", NAMES)


def test_missing_folders_are_reported(tmp_path: Path) -> None:
    with pytest.raises(VisionError, match="images/ and labels/"):
        prepare_facade_dataset(tmp_path, tmp_path / "out", NAMES)
