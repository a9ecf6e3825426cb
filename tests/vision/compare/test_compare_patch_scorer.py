"""The patch scorer: candidate patches cut from the aligned pair, and the small network that reads them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from factories.change_pairs import Light, View, make_pair

from vision.compare import CompareSettings, ImageComparer
from vision.compare.patch_scorer import PATCH_CHANNELS, PATCH_SIZE, PatchScorer, cut_patches
from vision.compare.proposals import Proposal
from vision.compare.scorer import FEATURE_NAMES
from vision.detections import box_iou
from vision.errors import ModelError

SHAPE = (120, 200)
HIDDEN = 8
INPUTS = len(FEATURE_NAMES) + 2  # the features and the region scorer's two outputs (as logits)


def random_weights(seed: int, channels: tuple[int, int, int] = (4, 6, 5)) -> dict[str, np.ndarray]:
    """A network of the patch scorer's shape with random weights."""
    rng = np.random.default_rng(seed)
    c1, c2, c3 = channels
    shapes = {
        "c1.weight": (c1, PATCH_CHANNELS, 3, 3), "c1.bias": (c1,), "c2.weight": (c2, c1, 3, 3), "c2.bias": (c2,),
        "c3.weight": (c3, c2, 3, 3), "c3.bias": (c3,), "f1.weight": (HIDDEN, 2 * c3 + INPUTS),
        "f1.bias": (HIDDEN,), "f2.weight": (HIDDEN, HIDDEN), "f2.bias": (HIDDEN,), "out.weight": (2, HIDDEN),
        "out.bias": (2,),
    }  # fmt: skip
    weights = {key: rng.normal(0, 0.5, shape).astype(np.float32) for key, shape in shapes.items()}
    weights["mean"] = rng.normal(0, 1, INPUTS).astype(np.float32)
    weights["scale"] = rng.uniform(0.5, 2, INPUTS).astype(np.float32)
    return weights


def save(path: Path, weights: dict[str, np.ndarray], names: tuple[str, ...] = FEATURE_NAMES) -> Path:
    np.savez(path, names=np.asarray(names), patch_size=np.asarray(PATCH_SIZE), **weights)
    return path


def test_a_patch_holds_the_box_in_its_middle_half_with_its_mask() -> None:
    current = np.zeros((*SHAPE, 3), np.uint8)
    current[40:60, 80:120] = (0, 0, 255)  # a red board in the current image only
    reference = np.zeros_like(current)
    extent = np.zeros(SHAPE, np.float32)
    extent[40:60, 80:120] = 1.0
    mask = np.zeros((20, 40), bool)
    mask[:, :20] = True  # the candidate's mask covers the board's left half
    proposal = Proposal((80, 40, 120, 60), mask, 0.5, 0, False)
    patch = cut_patches(current, reference, extent, extent, np.zeros(SHAPE, bool), [proposal])[0]
    assert patch.shape == (PATCH_CHANNELS, PATCH_SIZE, PATCH_SIZE)
    quarter, middle = PATCH_SIZE // 4, slice(PATCH_SIZE // 4 + 1, 3 * PATCH_SIZE // 4 - 1)
    assert (patch[2, middle, middle] == 255).all() and patch[2, : quarter - 1].max() == 0  # red inside only
    assert patch[3:6].max() == 0  # nothing in the reference
    assert (patch[6, middle, middle] == 255).all()  # the change map
    assert patch[9, middle, quarter : PATCH_SIZE // 2].min() == 255 and patch[9, middle, PATCH_SIZE // 2 :].max() == 0


def test_the_network_gives_what_its_output_bias_says_when_its_layers_are_zero(tmp_path: Path) -> None:
    weights = {key: np.zeros_like(value) for key, value in random_weights(0).items()}
    weights["scale"] = np.ones(INPUTS, np.float32)
    weights["out.bias"] = np.asarray([np.log(0.7 / 0.3), np.log(0.2 / 0.8)], np.float32)
    scorer = PatchScorer(save(tmp_path / "patch.npz", weights))
    patches = np.random.default_rng(1).integers(0, 256, (3, PATCH_CHANNELS, PATCH_SIZE, PATCH_SIZE), np.uint8)
    half = np.full(3, 0.5, np.float32)
    fit, new = scorer.predict(patches, np.zeros((3, len(FEATURE_NAMES)), np.float32), half, half)
    np.testing.assert_allclose(fit, 0.7, atol=1e-6)
    np.testing.assert_allclose(new, 0.2, atol=1e-6)


def test_the_numpy_network_matches_torch(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    weights = random_weights(2)
    scorer = PatchScorer(save(tmp_path / "patch.npz", weights))
    rng = np.random.default_rng(3)
    patches = rng.integers(0, 256, (5, PATCH_CHANNELS, PATCH_SIZE, PATCH_SIZE), np.uint8)
    features = rng.normal(0, 1, (5, len(FEATURE_NAMES))).astype(np.float32)
    region_fit, region_new = rng.uniform(0, 1, 5).astype(np.float32), rng.uniform(0, 1, 5).astype(np.float32)
    fit, new = scorer.predict(patches, features, region_fit, region_new)
    t = {key: torch.from_numpy(value) for key, value in weights.items()}
    x = torch.from_numpy(patches).float() / 255
    x = functional.max_pool2d(functional.relu(functional.conv2d(x, t["c1.weight"], t["c1.bias"], padding=1)), 2)
    x = functional.max_pool2d(functional.relu(functional.conv2d(x, t["c2.weight"], t["c2.bias"], padding=1)), 2)
    x = functional.relu(functional.conv2d(x, t["c3.weight"], t["c3.bias"], padding=1))
    logits = [torch.logit(torch.from_numpy(p).double(), eps=1e-4).float()[:, None] for p in (region_fit, region_new)]
    standard = (torch.cat([torch.from_numpy(features), *logits], 1) - t["mean"]) / t["scale"]
    hidden = torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3)), standard], 1)
    hidden = functional.relu(functional.linear(hidden, t["f1.weight"], t["f1.bias"]))
    hidden = functional.relu(functional.linear(hidden, t["f2.weight"], t["f2.bias"]))
    expected = torch.sigmoid(functional.linear(hidden, t["out.weight"], t["out.bias"])).numpy()
    np.testing.assert_allclose(fit, expected[:, 0], atol=1e-5)
    np.testing.assert_allclose(new, expected[:, 1], atol=1e-5)


def test_no_candidates_give_no_scores(tmp_path: Path) -> None:
    scorer = PatchScorer(save(tmp_path / "patch.npz", random_weights(4)))
    patches = np.zeros((0, PATCH_CHANNELS, PATCH_SIZE, PATCH_SIZE), np.uint8)
    none = np.zeros(0, np.float32)
    fit, new = scorer.predict(patches, np.zeros((0, len(FEATURE_NAMES)), np.float32), none, none)
    assert fit.shape == new.shape == (0,)


def test_a_patch_scorer_of_other_features_or_without_its_layers_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="other features"):
        PatchScorer(save(tmp_path / "old.npz", random_weights(5), names=("log_width",)))
    weights = random_weights(5)
    del weights["c2.weight"]
    with pytest.raises(ModelError, match=r"c2\.weight"):
        PatchScorer(save(tmp_path / "broken.npz", weights))
    with pytest.raises(ModelError, match="no such"):
        PatchScorer(tmp_path / "absent.npz")


def constant_scorer(path: Path, fit: float, new: float) -> Path:
    """A patch scorer that gives every candidate the same fit and probability of new."""
    weights = {key: np.zeros_like(value) for key, value in random_weights(6).items()}
    weights["scale"] = np.ones(INPUTS, np.float32)
    weights["out.bias"] = np.asarray([np.log(fit / (1 - fit)), np.log(new / (1 - new))], np.float32)
    return save(path, weights)


def test_the_comparer_keeps_and_kinds_what_the_patch_scorer_says(tmp_path: Path) -> None:
    pair = make_pair(31, new=1, view=View(shift=(0.02, 0.01), rotation=1.0), light=Light(gain=0.85))
    plain = ImageComparer(CompareSettings()).compare(pair.reference, pair.current)
    assert [region.kind for region in plain.regions] == ["new"]
    doubting = CompareSettings(patch_scorer=str(constant_scorer(tmp_path / "low.npz", 0.1, 0.9)))
    assert ImageComparer(doubting).compare(pair.reference, pair.current).regions == ()
    contrary = CompareSettings(patch_scorer=str(constant_scorer(tmp_path / "gone.npz", 0.9, 0.1)))
    regions = ImageComparer(contrary).compare(pair.reference, pair.current).regions
    assert regions and {region.kind for region in regions} == {"gone"}
    # every candidate scores alike, so which box around the object wins is a tie; one is around it
    found = np.asarray([plain.regions[0].box], np.float32)
    assert box_iou(np.asarray([region.box for region in regions], np.float32), found).max() > 0.3


def test_without_a_region_scorer_the_patch_scorer_is_not_used(tmp_path: Path) -> None:
    pair = make_pair(31, new=1, view=View(shift=(0.02, 0.01), rotation=1.0), light=Light(gain=0.85))
    settings = CompareSettings(scorer=None, patch_scorer=str(constant_scorer(tmp_path / "low.npz", 0.1, 0.9)))
    assert [region.kind for region in ImageComparer(settings).compare(pair.reference, pair.current).regions] == ["new"]
