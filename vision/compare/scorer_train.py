"""Training the region scorer (:mod:`vision.compare.scorer`) on labelled pairs; numpy only.

    xiuhua compare-train --pairs datasets/generated/compare-train --out models/xiuhua-compare/region-scorer.npz

Every pair is aligned, its change maps computed and its candidates cut by the comparer's own stages;
each candidate's target is its best IoU with a true changed box. Half the pairs see the truth's boxes of
passers-by (as a person/vehicle detector would give them), half do not, so the scorer works either way.
A two-layer perceptron learns the targets with a cross-entropy on soft labels (Adam, weight decay).
"""

from __future__ import annotations

import itertools
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from vision.compare.changemap import change_map
from vision.compare.comparer import ImageComparer
from vision.compare.evaluate import MATCH_IOU, LabelledPair
from vision.compare.scorer import FEATURE_NAMES, ensemble, members
from vision.compare.types import CompareSettings
from vision.detections import box_iou

Array = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class ScorerData:
    """Candidates of many pairs: features, targets and the pair each is from.

    Attributes:
        features: ``(N, F)`` candidate features.
        targets: ``(N,)`` best IoU with a true changed box.
        kinds: ``(N,)`` 1 when that best box is ``new``, 0 when ``gone`` (or there is none).
        pair: ``(N,)`` index of the pair.
    """

    features: npt.NDArray[np.float32]
    targets: npt.NDArray[np.float32]
    kinds: npt.NDArray[np.float32]
    pair: npt.NDArray[np.int64]

    def save(self, path: Path) -> None:
        """Write as one ``.npz`` (a cache: collecting is the slow part)."""
        np.savez(
            path,
            names=np.asarray(FEATURE_NAMES),
            features=self.features,
            targets=self.targets,
            kinds=self.kinds,
            pair=self.pair,
        )

    @classmethod
    def load(cls, path: Path) -> ScorerData:
        """Read what :meth:`save` wrote; refuses a cache of other features."""
        with np.load(path) as data:
            if tuple(str(n) for n in data["names"]) != FEATURE_NAMES:
                raise ValueError(f"{path}: cached with other features than this version computes")
            return cls(data["features"], data["targets"], data["kinds"], data["pair"])


def collect(
    pairs: Iterable[LabelledPair],
    settings: CompareSettings | None = None,
    seed: int = 0,
    log: Callable[[str], None] = print,
    passers_share: float = 0.5,
) -> ScorerData:
    """Candidates, features and targets of every pair that aligns.

    ``passers_share`` of the pairs get the truth's boxes of passers-by as transient boxes; which ones
    depends only on each pair's name and ``seed``, not on the order they come in.
    """
    comparer = ImageComparer(replace(settings or CompareSettings(), scorer=None))
    features, targets, kinds, owners = [], [], [], []
    started = time.perf_counter()
    for index, pair in enumerate(pairs):
        prepared = comparer.prepare(pair.reference, pair.current)
        if isinstance(prepared, str):
            continue
        maps = change_map(prepared.reference, prepared.current, prepared.valid, comparer.settings)
        draw = zlib.crc32(f"{seed}/{pair.name}".encode()) / 2**32
        passers = np.asarray(pair.truth.transients, np.float32).reshape(-1, 4) if draw < passers_share else None
        keep, transient, _, _ = comparer.masks(prepared, ignore_boxes=passers)
        proposals, pair_features = comparer.candidates(prepared, maps, keep, transient)
        if not proposals:
            continue
        truth = np.asarray([t.box for t in pair.truth.regions], np.float32).reshape(-1, 4) * prepared.scale
        is_new = np.asarray([t.kind == "new" for t in pair.truth.regions], np.float32)
        boxes = np.asarray([p.box for p in proposals], np.float32)
        overlaps = box_iou(boxes, truth) if len(truth) else np.zeros((len(boxes), 1), np.float32)
        features.append(pair_features)
        targets.append(overlaps.max(axis=1).astype(np.float32))
        kinds.append(is_new[overlaps.argmax(axis=1)] if len(truth) else np.zeros(len(boxes), np.float32))
        owners.append(np.full(len(proposals), index, np.int64))
        if (index + 1) % 100 == 0:
            log(f"  {index + 1} pairs ({time.perf_counter() - started:.0f} s)")
    if not features:
        raise ValueError("no aligned pair with candidates to learn from")
    return ScorerData(np.concatenate(features), np.concatenate(targets), np.concatenate(kinds), np.concatenate(owners))


@dataclass(frozen=True)
class ScorerTraining:
    """How the perceptrons learn; ``members`` of each head, from seeds ``seed``, ``seed + 1``, ..., are
    averaged (small perceptrons from different starts disagree on the hard cases; their mean is steadier)."""

    hidden: int = 32
    epochs: int = 20
    batch: int = 512
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    members: int = 5


def train_scorer(
    data: ScorerData, training: ScorerTraining | None = None, log: Callable[[str], None] = print
) -> dict[str, npt.NDArray[np.float32]]:
    """Fit both heads: the fit of every candidate, and the kind of those that fit a true box.

    Returns:
        The weights :class:`RegionScorer` reads (``fit.<member>.*`` and ``kind.<member>.*``).
    """
    training = training or ScorerTraining()
    matched = data.targets >= MATCH_IOU
    weights: dict[str, npt.NDArray[np.float32]] = {}
    for member in range(training.members):
        member_training = replace(training, seed=training.seed + member)
        log(f"member {member + 1}/{training.members}, fit of the candidates:")
        fit = train_perceptron(data.features, data.targets, member_training, log)
        log(f"member {member + 1}/{training.members}, kind of the {int(matched.sum())} that fit a true box:")
        kind = train_perceptron(data.features[matched], data.kinds[matched], member_training, log)
        weights |= {f"fit.{member}.{k}": v for k, v in fit.items()}
        weights |= {f"kind.{member}.{k}": v for k, v in kind.items()}
    return weights


def train_perceptron(
    features: npt.NDArray[np.float32],
    targets: npt.NDArray[np.float32],
    training: ScorerTraining,
    log: Callable[[str], None] = print,
) -> dict[str, npt.NDArray[np.float32]]:
    """Fit a two-layer perceptron with a sigmoid output to soft targets in ``[0, 1]``."""
    rng = np.random.default_rng(training.seed)
    inputs = features.astype(np.float64)
    mean, scale = inputs.mean(axis=0), inputs.std(axis=0) + 1e-6
    inputs = (inputs - mean) / scale
    soft = targets.astype(np.float64)
    sizes = [inputs.shape[1], training.hidden, training.hidden, 1]
    params = {}
    for layer, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes), start=1):
        params[f"w{layer}"] = rng.normal(0.0, np.sqrt(2.0 / fan_in), (fan_in, fan_out))
        params[f"b{layer}"] = np.zeros(fan_out)
    moments = {key: (np.zeros_like(value), np.zeros_like(value)) for key, value in params.items()}
    step = 0
    for epoch in range(training.epochs):
        order = rng.permutation(len(inputs))
        total = 0.0
        for first in range(0, len(order), training.batch):
            batch = order[first : first + training.batch]
            loss, grads = _loss_and_gradients(params, inputs[batch], soft[batch])
            total += loss * len(batch)
            step += 1
            rate = training.learning_rate * 0.5 * (1 + np.cos(np.pi * epoch / training.epochs))
            for key, grad in grads.items():
                first_moment, second_moment = moments[key]
                first_moment[...] = 0.9 * first_moment + 0.1 * grad
                second_moment[...] = 0.999 * second_moment + 0.001 * grad * grad
                corrected = first_moment / (1 - 0.9**step), second_moment / (1 - 0.999**step)
                update = corrected[0] / (np.sqrt(corrected[1]) + 1e-8)
                params[key] -= rate * (update + training.weight_decay * params[key] * key.startswith("w"))
        if (epoch + 1) % 10 == 0 or epoch == 0:
            log(f"epoch {epoch + 1}/{training.epochs}: loss {total / len(order):.4f}")
    weights = {key: value.astype(np.float32) for key, value in params.items()}
    weights["mean"], weights["scale"] = mean.astype(np.float32), scale.astype(np.float32)
    return weights


def _loss_and_gradients(params: dict[str, Array], inputs: Array, targets: Array) -> tuple[float, dict[str, Array]]:
    """Cross-entropy of sigmoid outputs against soft targets, and its gradients by backpropagation."""
    hidden1 = np.maximum(inputs @ params["w1"] + params["b1"], 0.0)
    hidden2 = np.maximum(hidden1 @ params["w2"] + params["b2"], 0.0)
    logits = (hidden2 @ params["w3"] + params["b3"])[:, 0]
    probability = 1.0 / (1.0 + np.exp(-np.clip(logits, -60.0, 60.0)))
    eps = 1e-7
    loss = -np.mean(targets * np.log(probability + eps) + (1 - targets) * np.log(1 - probability + eps))
    d_logits = ((probability - targets) / len(targets))[:, None]
    grads = {"w3": hidden2.T @ d_logits, "b3": d_logits.sum(axis=0)}
    d_hidden2 = (d_logits @ params["w3"].T) * (hidden2 > 0)
    grads["w2"], grads["b2"] = hidden1.T @ d_hidden2, d_hidden2.sum(axis=0)
    d_hidden1 = (d_hidden2 @ params["w2"].T) * (hidden1 > 0)
    grads["w1"], grads["b1"] = inputs.T @ d_hidden1, d_hidden1.sum(axis=0)
    return float(loss), grads


def save_scorer(weights: dict[str, npt.NDArray[np.float32]], path: Path) -> None:
    """Write the weights with the feature names they were trained on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, npt.NDArray[np.generic]] = {"names": np.asarray(FEATURE_NAMES), **weights}
    np.savez(path, allow_pickle=False, **arrays)


def predict(
    weights: dict[str, npt.NDArray[np.float32]], features: npt.NDArray[np.float32], head: str = "fit"
) -> npt.NDArray[np.float32]:
    """Outputs of one head (``fit`` or ``kind``) under freshly trained weights, as :class:`RegionScorer`."""
    return ensemble(members(weights, head), features)
