"""The evaluator end to end on datasets written in the test, with a scripted fake detector."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from factories.training import FakeDetector, ImageSpec, detections, make_dataset

from vision.errors import VisionError
from vision.taxonomy import load_taxonomy
from vision.training.dataset import label_path, load_data_yaml
from vision.training.evaluate import evaluate_detector

FACADE = ("window", "cantilever", "arch", "signboard", "win_ad", "door")
A, B, C = (10.0, 10.0, 40.0, 30.0), (50.0, 20.0, 90.0, 60.0), (5.0, 35.0, 30.0, 60.0)


def test_perfect_predictions_score_one(tmp_path: Path) -> None:
    data = make_dataset(tmp_path, ["cat", "dog"], {"val": [ImageSpec([(0, A), (1, B)]), ImageSpec([(1, C)])]})
    fake = FakeDetector(("cat", "dog"), {0: detections([(0, 0.9, A), (1, 0.8, B)]), 1: detections([(1, 0.7, C)])})
    result = evaluate_detector(fake, data, split="val")
    assert result.map50 == pytest.approx(1.0)
    assert result.map50_95 == pytest.approx(1.0)
    assert result.classes["dog"].instances == 2
    assert result.classes["cat"].precision == pytest.approx(1.0)
    assert result.classes["dog"].recall == pytest.approx(1.0)
    assert result.images == 2
    assert fake.calls == [0.001]


def test_known_pr_curve(tmp_path: Path) -> None:
    # Three cats; predictions: hit (0.9), miss far away (0.8), hit (0.7). AP = 56/101 (see test_metrics).
    data = make_dataset(tmp_path, ["cat"], {"val": [ImageSpec([(0, A), (0, B), (0, C)])]})
    far = (70.0, 0.0, 95.0, 10.0)
    fake = FakeDetector(("cat",), {0: detections([(0, 0.9, A), (0, 0.8, far), (0, 0.7, B)])})
    result = evaluate_detector(fake, data)
    assert result.classes["cat"].ap50 == pytest.approx(56 / 101)
    assert result.map50_95 == pytest.approx(56 / 101)


def test_classes_are_matched_by_name_across_numberings(tmp_path: Path) -> None:
    # The facade numbering (cantilever 1, signboard 3, win_ad 4) against our vocabulary (6, 7, 8).
    vocabulary = load_taxonomy().names
    data = make_dataset(
        tmp_path,
        FACADE,
        {"val": [ImageSpec([(1, A), (3, B), (0, C)]), ImageSpec([(4, A), (2, B)])]},
        names_as_dict=True,
    )
    ids = {name: vocabulary.index(name) for name in ("cantilever", "signboard", "win_ad", "vendor_stall")}
    fake = FakeDetector(
        vocabulary,
        {
            0: detections([(ids["cantilever"], 0.9, A), (ids["signboard"], 0.8, B), (ids["vendor_stall"], 0.95, C)]),
            1: detections([(ids["win_ad"], 0.6, A)]),
        },
    )
    result = evaluate_detector(fake, data)
    assert list(result.classes) == ["cantilever", "signboard", "win_ad"]
    assert all(m.ap50_95 == pytest.approx(1.0) for m in result.classes.values())
    assert result.map50 == pytest.approx(1.0)  # vendor_stall: no labels for it here, so it is ignored
    assert set(result.not_evaluated) == {"window", "arch", "door"}
    assert "no such class" in result.not_evaluated["window"]


def test_wrong_class_is_a_miss_and_a_false_positive(tmp_path: Path) -> None:
    data = make_dataset(tmp_path, FACADE, {"val": [ImageSpec([(1, A), (3, B)])]})
    fake = FakeDetector(("signboard", "cantilever"), {0: detections([(0, 0.9, A), (0, 0.8, B)])})
    result = evaluate_detector(fake, data)
    assert result.classes["cantilever"].ap50 == 0.0
    assert result.classes["cantilever"].recall == 0.0
    # signboard: FP (0.9, on the cantilever) then TP (0.8): precision 0 then 1/2 at recall 1, so AP 1/2.
    assert result.classes["signboard"].ap50 == pytest.approx(0.5)
    assert result.classes["signboard"].precision == pytest.approx(0.5)
    assert result.map50 == pytest.approx(0.25)


def test_class_without_instances_is_reported_not_evaluated(tmp_path: Path) -> None:
    data = make_dataset(tmp_path, ["cat", "dog"], {"val": [ImageSpec([(0, A)])]})
    result = evaluate_detector(FakeDetector(("cat", "dog"), {0: detections([(0, 0.9, A)])}), data)
    assert list(result.classes) == ["cat"]
    assert result.not_evaluated == {"dog": "no instances in the val split"}
    payload = result.to_dict()
    assert set(payload["classes"]["cat"]) == {"precision", "recall", "ap50", "ap50_95", "instances"}
    assert payload["map50"] == pytest.approx(1.0)


def test_no_shared_class_is_an_error(tmp_path: Path) -> None:
    data = make_dataset(tmp_path, ["cat"], {"val": [ImageSpec([(0, A)])]})
    with pytest.raises(VisionError, match="share no class"):
        evaluate_detector(FakeDetector(("dog",)), data)


def test_missing_split_names_the_yaml(tmp_path: Path) -> None:
    data = make_dataset(tmp_path, ["cat"], {"val": [ImageSpec([(0, A)])]})
    with pytest.raises(VisionError, match=r"data\.yaml: test: no such split"):
        evaluate_detector(FakeDetector(("cat",)), data, split="test")


def test_label_with_unknown_class_id_names_the_file(tmp_path: Path) -> None:
    data = make_dataset(tmp_path, ["cat"], {"val": [ImageSpec([(0, A)])]})
    label = tmp_path / "labels" / "val" / "im000.txt"
    label.write_text("3 0.5 0.5 0.2 0.2\n", encoding="utf-8")
    with pytest.raises(VisionError, match=r"im000\.txt: class id 3"):
        evaluate_detector(FakeDetector(("cat",)), data)


def test_split_as_txt_list_and_relative_path(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    make_dataset(root, ["cat"], {"val": [ImageSpec([(0, A)]), ImageSpec([(0, B)])]})
    (root / "val.txt").write_text("images/val/im001.png\n", encoding="utf-8")
    config = tmp_path / "configs" / "data.yaml"
    config.parent.mkdir()
    config.write_text(yaml.safe_dump({"path": "../ds", "val": "val.txt", "names": {0: "cat"}}), encoding="utf-8")
    spec = load_data_yaml(config)
    assert spec.root == root.resolve()
    assert [p.name for p in spec.images("val")] == ["im001.png"]
    result = evaluate_detector(FakeDetector(("cat",), {1: detections([(0, 0.5, B)])}), spec)
    assert result.classes["cat"].ap50 == pytest.approx(1.0)


def test_label_path_swaps_the_last_images_folder() -> None:
    image = Path("/d/images/x/images/val/a.b.jpg")
    assert label_path(image) == Path("/d/images/x/labels/val/a.b.txt")


@pytest.mark.parametrize(
    ("names", "message"),
    [({0: "a", 2: "b"}, "ids must be 0..1"), ([], "non-empty list"), ({"x": "a"}, "keys must be class ids")],
)
def test_bad_names_name_the_field(tmp_path: Path, names: object, message: str) -> None:
    config = tmp_path / "data.yaml"
    config.write_text(yaml.safe_dump({"val": "images", "names": names}), encoding="utf-8")
    with pytest.raises(VisionError, match=f"names: .*{message}"):
        load_data_yaml(config)
