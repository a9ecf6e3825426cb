"""Scoring the comparer: region matching per kind, false regions on negatives, reading pair folders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from factories.change_pairs import make_pair, write_pair

from vision.compare import ChangeRegion, CompareSettings, ImageComparer
from vision.compare.evaluate import (
    KindScore,
    PairOutcome,
    TruthRegion,
    evaluate,
    load_pairs,
    match_regions,
    read_truth,
    summarise,
)
from vision.errors import SourceError


def region(box: tuple[int, int, int, int], kind: str) -> ChangeRegion:
    x1, y1, x2, y2 = box
    return ChangeRegion(box, np.ones((y2 - y1, x2 - x1), bool), 0.9, kind)  # type: ignore[arg-type]


def test_regions_match_per_kind_at_iou_03() -> None:
    truth = [TruthRegion((0, 0, 100, 100), "new"), TruthRegion((200, 0, 300, 100), "gone")]
    predicted = [
        region((10, 10, 110, 110), "new"),  # IoU 0.68: found
        region((200, 0, 300, 100), "new"),  # right place, wrong kind: a false new and a missed gone
        region((400, 400, 450, 450), "new"),  # nothing there
    ]
    counts = match_regions(predicted, truth)
    assert counts == {"new": (1, 2, 0), "gone": (0, 0, 1)}


def test_one_truth_is_found_once() -> None:
    truth = [TruthRegion((0, 0, 100, 100), "new")]
    predicted = [region((0, 0, 100, 100), "new"), region((0, 0, 90, 90), "new")]
    assert match_regions(predicted, truth)["new"] == (1, 1, 0)


def test_kind_score_rates() -> None:
    score = KindScore(true_positives=8, false_positives=2, false_negatives=2)
    assert (
        score.precision == pytest.approx(0.8) and score.recall == pytest.approx(0.8) and score.f1 == pytest.approx(0.8)
    )
    assert KindScore(0, 0, 0).f1 == 1.0


def test_summary_counts_false_regions_on_negatives_only() -> None:
    outcomes = [
        PairOutcome("a", "change", True, {"new": (1, 1, 0), "gone": (0, 0, 0)}, 2, 1, 10.0),
        PairOutcome("b", "light_only", True, {"new": (0, 1, 0), "gone": (0, 0, 0)}, 1, 0, 10.0),
        PairOutcome("c", "shift_only", False, {"new": (0, 0, 0), "gone": (0, 0, 0)}, 0, 0, 10.0),
    ]
    report = summarise(outcomes)
    assert report.negatives == 2 and report.false_regions_per_negative == 0.5
    assert report.false_regions_by_pair_kind == {"light_only": 1.0, "shift_only": 0.0}
    assert report.aligned_rate == pytest.approx(2 / 3)
    assert report.per_kind["new"] == KindScore(1, 2, 0)


def test_evaluate_reads_pair_folders(tmp_path: Path) -> None:
    write_pair(make_pair(81, new=1, style="shed"), tmp_path / "p1")
    write_pair(make_pair(82, people=2), tmp_path / "p2", kind="passers_only")
    pairs = list(load_pairs(tmp_path))
    assert [pair.name for pair in pairs] == ["p1", "p2"]
    assert pairs[1].truth.kind == "passers_only" and len(pairs[1].truth.transients) == 2
    with_boxes = evaluate(ImageComparer(), pairs)
    assert with_boxes.per_kind["new"] == KindScore(1, 0, 0)
    assert with_boxes.false_regions_per_negative == 0.0
    without_boxes = evaluate(ImageComparer(CompareSettings(scorer=None)), pairs, use_transients=False)
    assert without_boxes.false_regions_per_negative >= 1.0  # to the change map alone, passers-by are changes too


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("[]", "JSON object"),
        ('{"regions": [{"box": [1, 2, 3]}]}', "region 0"),
        ('{"regions": [{"box": [1, 2, 3, 4], "kind": "moved"}]}', "new or gone"),
        ('{"regions": [], "transients": [[1, 2]]}', "transient"),
    ],
)
def test_bad_truth_names_file_and_field(tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "truth.json"
    path.write_text(content)
    with pytest.raises(SourceError, match=words):
        read_truth(path)


def test_truth_accepts_label_and_dict_transients(tmp_path: Path) -> None:
    path = tmp_path / "truth.json"
    path.write_text(
        json.dumps(
            {
                "kind": "change",
                "regions": [{"box": [0, 0, 5, 5], "kind": "gone", "label": "banner"}],
                "people": [{"box": [1, 1, 2, 2]}],
            }
        )
    )
    truth = read_truth(path)
    assert truth.regions == (TruthRegion((0, 0, 5, 5), "gone", "banner"),)
    assert truth.transients == ((1.0, 1.0, 2.0, 2.0),)
