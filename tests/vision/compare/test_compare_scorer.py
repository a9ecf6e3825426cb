"""Candidates cut at several thresholds, their features, the learned scorer and the choice among them."""

from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

from vision.compare.proposals import Proposal, propose
from vision.compare.scorer import FEATURE_NAMES, FeaturePlanes, RegionScorer, region_features, select
from vision.compare.scorer_train import ScorerData, ScorerTraining, predict, save_scorer, train_scorer
from vision.errors import ModelError

SHAPE = (120, 200)


def two_blobs_with_a_bridge() -> np.ndarray:
    """Two strong squares joined by a weak strip: one object at a low cut, two at a high one."""
    extent = np.zeros(SHAPE, np.float32)
    extent[30:60, 20:50] = 0.9
    extent[30:60, 110:140] = 0.9
    extent[40:50, 50:110] = 0.35
    return extent


def test_candidates_hold_the_merged_and_the_separate_boxes() -> None:
    extent = two_blobs_with_a_bridge()
    keep, none = np.ones(SHAPE, bool), np.zeros(SHAPE, bool)
    boxes = {p.box for p in propose(extent, keep, none)}
    assert (20, 30, 140, 60) in boxes  # cut at 0.3: one blob
    assert {(20, 30, 50, 60), (110, 30, 140, 60)} <= boxes  # cut above 0.35: two


def test_a_box_found_by_many_cuts_is_more_stable() -> None:
    proposals = {p.box: p for p in propose(two_blobs_with_a_bridge(), np.ones(SHAPE, bool), np.zeros(SHAPE, bool))}
    assert proposals[(20, 30, 50, 60)].stability > proposals[(20, 30, 140, 60)].stability


def test_passers_by_are_cut_out_of_the_candidates() -> None:
    extent = np.zeros(SHAPE, np.float32)
    extent[20:80, 40:70] = 0.9  # a passer-by...
    extent[20:80, 70:130] = 0.9  # ...next to a new object
    transient = np.zeros(SHAPE, bool)
    transient[15:85, 35:70] = True
    proposals = propose(extent, np.ones(SHAPE, bool), transient)
    assert any(p.box == (70, 20, 130, 80) and p.cut for p in proposals)
    assert all(p.box[0] >= 70 for p in proposals if p.cut)
    assert any(p.box == (40, 20, 130, 80) for p in propose(extent, np.ones(SHAPE, bool), np.zeros(SHAPE, bool)))


def test_an_object_behind_a_passer_by_still_has_a_candidate() -> None:
    extent = np.zeros(SHAPE, np.float32)
    extent[20:80, 60:90] = 0.9  # a new pillar, mostly behind a passer-by's box
    transient = np.zeros(SHAPE, bool)
    transient[15:85, 55:85] = True
    proposals = propose(extent, np.ones(SHAPE, bool), transient)
    assert any(p.box == (60, 20, 90, 80) and not p.cut for p in proposals)
    assert not any(p.box == (60, 20, 90, 80) for p in propose(extent, np.ones(SHAPE, bool), transient) if p.cut)


def test_touching_blobs_are_split_into_their_pieces() -> None:
    extent = np.zeros(SHAPE, np.float32)
    extent[20:70, 20:70] = 0.9  # two squares joined by a short neck: one blob at every threshold
    extent[20:70, 90:140] = 0.9
    extent[40:50, 70:90] = 0.9
    keep, none = np.ones(SHAPE, bool), np.zeros(SHAPE, bool)
    assert {p.box for p in propose(extent, keep, none) if not p.split} == {(20, 20, 140, 70)}
    pieces = [p.box for p in propose(extent, keep, none) if p.split]
    assert any(box[:2] == (20, 20) and box[3] == 70 and 58 <= box[2] <= 72 for box in pieces)
    assert any(box[1:] == (20, 140, 70) and 88 <= box[0] <= 102 for box in pieces)


def test_ignored_pixels_give_no_candidates() -> None:
    extent = two_blobs_with_a_bridge()
    assert propose(extent, np.zeros(SHAPE, bool), np.zeros(SHAPE, bool)) == []


def test_features_are_finite_and_named() -> None:
    rng = np.random.default_rng(0)
    reference = rng.integers(0, 255, (*SHAPE, 3), np.uint8)
    current = reference.copy()
    current[30:60, 20:50] = (20, 30, 220)
    extent = two_blobs_with_a_bridge()
    keep, transient = np.ones(SHAPE, bool), np.zeros(SHAPE, bool)
    proposals = propose(extent, keep, transient)
    planes = FeaturePlanes.of(reference, current, extent, extent, keep, transient)
    features = region_features(proposals, planes)
    assert features.shape == (len(proposals), len(FEATURE_NAMES))
    assert np.isfinite(features).all()
    column = {name: index for index, name in enumerate(FEATURE_NAMES)}
    first = next(i for i, p in enumerate(proposals) if p.box == (20, 30, 50, 60))
    assert features[first, column["extent"]] == pytest.approx(0.9, abs=1e-4)
    assert features[first, column["contrast_now_l"]] > features[first, column["contrast_before_l"]]


def test_selection_keeps_the_best_and_drops_what_overlaps_it() -> None:
    def candidate(box: tuple[int, int, int, int]) -> Proposal:
        return Proposal(box, np.ones((box[3] - box[1], box[2] - box[0]), bool), 0.5, 0, False)

    whole, part, elsewhere, weak = (
        candidate((0, 0, 40, 40)),
        candidate((5, 5, 20, 20)),
        candidate((60, 60, 80, 80)),
        candidate((100, 0, 120, 20)),
    )
    chosen = select([part, whole, elsewhere, weak], np.float32([0.6, 0.9, 0.5, 0.1]), threshold=0.3, overlap=0.5)
    assert [(p.box, s) for p, s in chosen] == [(whole.box, pytest.approx(0.9)), (elsewhere.box, pytest.approx(0.5))]


def test_selection_drops_a_kept_object_merged_with_a_passer_by_next_to_it() -> None:
    def candidate(box: tuple[int, int, int, int]) -> Proposal:
        return Proposal(box, np.ones((box[3] - box[1], box[2] - box[0]), bool), 0.5, 0, False)

    # A shed at x 40-100; a passer-by at x 15-42 beside it; an object half behind another passer-by at x 140-160.
    shed, shed_and_passer, behind = (
        candidate((40, 20, 100, 60)),
        candidate((15, 20, 55, 60)),
        candidate((130, 20, 170, 60)),
    )
    transient = np.zeros((100, 200), bool)
    transient[10:70, 15:42] = True
    transient[10:70, 140:160] = True
    scores = np.float32([0.9, 0.5, 0.6])
    chosen = select([shed, shed_and_passer, behind], scores, threshold=0.3, overlap=0.5, transient=transient)
    assert [p.box for p, _ in chosen] == [shed.box, behind.box]
    # Without the passers-by's pixels, the merged piece is an object of its own (it overlaps the shed by 3/8).
    merged = select([shed, shed_and_passer, behind], scores, threshold=0.3, overlap=0.5)
    assert [p.box for p, _ in merged] == [shed.box, behind.box, shed_and_passer.box]


def test_the_scorer_learns_a_rule_and_round_trips_through_its_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    features = rng.normal(0, 1, (3000, len(FEATURE_NAMES))).astype(np.float32)
    targets = (features[:, 3] > 0.5).astype(np.float32)  # good candidates: high log_aspect, say
    kinds = (features[:, 5] > 0.0).astype(np.float32)  # new ones: low in the image, say
    data = ScorerData(features, targets, kinds, np.arange(3000) // 30)
    weights = train_scorer(
        data, ScorerTraining(epochs=10, hidden=16, batch=64, learning_rate=5e-3, members=2), log=lambda _: None
    )
    scores, new = predict(weights, features), predict(weights, features, head="kind")
    assert scores[targets == 1].mean() > 0.8 and scores[targets == 0].mean() < 0.2
    fitting = targets == 1
    assert new[fitting & (kinds == 1)].mean() > 0.7 and new[fitting & (kinds == 0)].mean() < 0.3
    path = tmp_path / "scorer.npz"
    save_scorer(weights, path)
    scorer = RegionScorer(path)
    assert np.allclose(scorer.score(features), scores, atol=1e-5)
    assert np.allclose(scorer.new_probability(features), new, atol=1e-5)


def test_a_scorer_of_other_features_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.npz"
    np.savez(path, names=np.asarray(["log_width"]), mean=np.zeros(1))
    with pytest.raises(ModelError, match="other features"):
        RegionScorer(path)
    with pytest.raises(ModelError, match="no such region scorer"):
        RegionScorer(tmp_path / "absent.npz")


def test_feature_cache_round_trips(tmp_path: Path) -> None:
    data = ScorerData(
        np.ones((4, len(FEATURE_NAMES)), np.float32), np.zeros(4, np.float32), np.ones(4, np.float32), np.arange(4)
    )
    data.save(tmp_path / "cache.npz")
    loaded = ScorerData.load(tmp_path / "cache.npz")
    assert np.array_equal(loaded.features, data.features) and np.array_equal(loaded.pair, data.pair)


def test_far_out_features_give_probabilities_without_overflow() -> None:
    rng = np.random.default_rng(2)
    features = rng.normal(0, 1, (200, len(FEATURE_NAMES))).astype(np.float32)
    data = ScorerData(features, (features[:, 0] > 0).astype(np.float32), np.ones(200, np.float32), np.arange(200))
    weights = train_scorer(data, ScorerTraining(epochs=2, hidden=4, members=1), log=lambda _: None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # exp(-logit) of a huge logit overflowed before the clip
        scores = predict(weights, features * 1e6)
    assert np.isfinite(scores).all() and ((scores >= 0) & (scores <= 1)).all()


def test_two_image_features_tell_a_light_change_from_a_new_object() -> None:
    rng = np.random.default_rng(3)
    texture = cv2.GaussianBlur(rng.integers(0, 255, (*SHAPE, 3), np.uint8), (5, 5), 0)
    reference = texture.copy()
    current = cv2.convertScaleAbs(texture, alpha=1.3, beta=20)  # the same wall, brighter everywhere
    current[30:60, 110:140] = cv2.GaussianBlur(rng.integers(0, 255, (30, 30, 3), np.uint8), (5, 5), 0)  # new
    extent = two_blobs_with_a_bridge()
    keep, transient = np.ones(SHAPE, bool), np.zeros(SHAPE, bool)
    proposals = propose(extent, keep, transient)
    features = region_features(proposals, FeaturePlanes.of(reference, current, extent, extent, keep, transient))
    column = {name: index for index, name in enumerate(FEATURE_NAMES)}
    relit = features[next(i for i, p in enumerate(proposals) if p.box == (20, 30, 50, 60))]
    new = features[next(i for i, p in enumerate(proposals) if p.box == (110, 30, 140, 60))]
    assert relit[column["correlation"]] > 0.9 and new[column["correlation"]] < 0.3
    assert relit[column["gradient_agreement"]] > 0.9 and new[column["gradient_agreement"]] < 0.3
    assert new[column["ring_correlation"]] > 0.5  # around it, the wall is only relit
    assert (
        relit[column["colour_shift_l"]] < 0.05 < 0.2 < new[column["colour_shift_l"]]
    )  # light shifts box and ring alike
