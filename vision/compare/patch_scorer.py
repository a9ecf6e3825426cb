"""A second look at the promising candidates: a small convolutional network over their image patches.

The region scorer's perceptrons (:mod:`vision.compare.scorer`) see box averages only; a small object in a
busy part of the change map looks like the clutter around it in those numbers. For the candidates the
perceptrons give some chance (``CompareSettings.patch_prefilter``), a patch around the box is cut out of
the aligned pair (current and reference colour, the two change maps, passers-by's boxes and the
candidate's own mask; the box fills the middle half of the patch) and a three-layer network reads it
together with the candidate's features and the perceptrons' two outputs (so it learns a correction to
them). Its two outputs replace the perceptrons' fit and kind.

Numpy only, like the perceptrons: the weights are a small ``.npz`` (trained outside the package, see
``models/xiuhua-compare/README.md``), and the network is small enough that plain matrix products run it
in a few milliseconds for the few dozen candidates of a pair.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from vision.compare.proposals import Proposal
from vision.compare.scorer import Features, read_scorer_weights
from vision.errors import ModelError

Patches = npt.NDArray[np.uint8]
Scores = npt.NDArray[np.float32]
Array = npt.NDArray[Any]

PATCH_SIZE = 24
# Channels of a patch: current BGR, reference BGR, extent, evidence (x255), passers-by, candidate mask.
PATCH_CHANNELS = 10
_WEIGHTS = ("c1.weight", "c1.bias", "c2.weight", "c2.bias", "c3.weight", "c3.bias",
            "f1.weight", "f1.bias", "f2.weight", "f2.bias", "out.weight", "out.bias", "mean", "scale")  # fmt: skip


def cut_patches(
    current: npt.NDArray[np.uint8],
    reference: npt.NDArray[np.uint8],
    extent: npt.NDArray[Any],
    evidence: npt.NDArray[Any],
    transient: npt.NDArray[np.bool_],
    proposals: list[Proposal],
    size: int = PATCH_SIZE,
) -> Patches:
    """``(N, PATCH_CHANNELS, size, size)`` uint8 patches of the candidates at the working resolution.

    Each patch spans the candidate's box widened by half its width and height on every side (so the box
    is the middle half and the network sees its surroundings), stretched to ``size`` square; outside the
    image the edge pixels repeat.
    """
    stack = np.dstack(
        [current, reference, (extent * 255).astype(np.uint8), (evidence * 255).astype(np.uint8),
         transient.astype(np.uint8) * 255]
    )  # fmt: skip
    out = np.zeros((len(proposals), PATCH_CHANNELS, size, size), np.uint8)
    quarter, half = size // 4, size // 2
    for index, proposal in enumerate(proposals):
        x1, y1, x2, y2 = proposal.box
        width, height = x2 - x1, y2 - y1
        sx, sy = size / (2 * width), size / (2 * height)
        matrix = np.array([[sx, 0, -(x1 - width / 2) * sx], [0, sy, -(y1 - height / 2) * sy]], np.float32)
        warped = cv2.warpAffine(stack, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        out[index, : PATCH_CHANNELS - 1] = warped.transpose(2, 0, 1)
        mask = cv2.resize(proposal.mask.astype(np.uint8) * 255, (half, half), interpolation=cv2.INTER_NEAREST)
        out[index, PATCH_CHANNELS - 1, quarter : quarter + half, quarter : quarter + half] = mask
    return out


class PatchScorer:
    """The network over candidate patches and features: fit (expected IoU with a real change) and the
    probability that a fitting candidate is ``new``.

    The ``.npz`` holds the layers ``c1``-``c3`` (3x3 convolutions, ``weight`` as ``(out, in, 3, 3)``),
    ``f1``, ``f2``, ``out`` (dense, ``weight`` as ``(out, in)``), each with a ``bias``; ``mean`` and
    ``scale`` (standardisation of the features followed by the logits of the region scorer's two outputs);
    ``names``, the feature names it was trained with; and
    ``patch_size``.
    """

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        weights = read_scorer_weights(path, "patch scorer")
        missing = [key for key in _WEIGHTS if key not in weights]
        if missing:
            raise ModelError(str(path), f"not a patch scorer: no {', '.join(missing)}")
        self.weights = {key: weights[key].astype(np.float32) for key in _WEIGHTS}
        self.patch_size = int(weights.get("patch_size", PATCH_SIZE))
        self.path = path

    def predict(
        self, patches: Patches, features: Features, region_fit: Scores, region_new: Scores
    ) -> tuple[Scores, Scores]:
        """Fit (0..1) and probability of ``new`` (0..1) of each candidate, both ``(N,)``.

        Args:
            patches: The candidates' patches (:func:`cut_patches`).
            features: Their features (:func:`vision.compare.scorer.region_features`).
            region_fit: The region scorer's fit of each.
            region_new: The region scorer's probability of ``new`` of each.
        """
        w = self.weights
        if len(patches) == 0:
            empty = np.zeros(0, np.float32)
            return empty, empty
        x = patches.astype(np.float32).transpose(0, 2, 3, 1) * np.float32(1 / 255)  # NHWC
        x = _max_pool(_relu(_conv3x3(x, w["c1.weight"], w["c1.bias"])))
        x = _max_pool(_relu(_conv3x3(x, w["c2.weight"], w["c2.bias"])))
        x = _relu(_conv3x3(x, w["c3.weight"], w["c3.bias"]))
        pooled = np.concatenate([x.mean(axis=(1, 2)), x.max(axis=(1, 2))], axis=1)
        inputs = np.concatenate([features, _logit(region_fit)[:, None], _logit(region_new)[:, None]], axis=1)
        standard = (inputs.astype(np.float32) - w["mean"]) / w["scale"]
        hidden = _relu(np.concatenate([pooled, standard], axis=1) @ w["f1.weight"].T + w["f1.bias"])
        hidden = _relu(hidden @ w["f2.weight"].T + w["f2.bias"])
        logits = np.clip(hidden @ w["out.weight"].T + w["out.bias"], -60.0, 60.0)
        probability = (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)
        return probability[:, 0], probability[:, 1]


def _conv3x3(x: Array, weight: Array, bias: Array) -> Array:
    """Same-size 3x3 convolution of ``(N, H, W, C)`` by ``(out, C, 3, 3)`` weights (zero padding)."""
    count, height, width, channels = x.shape
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    # The nine shifted copies side by side: one matrix product does the whole convolution.
    columns = np.concatenate(
        [padded[:, dy : dy + height, dx : dx + width, :] for dy in range(3) for dx in range(3)], axis=3
    )
    kernel = weight.transpose(2, 3, 1, 0).reshape(9 * channels, -1)  # (dy, dx, in) -> out
    out = columns.reshape(-1, 9 * channels) @ kernel + bias
    return out.reshape(count, height, width, -1)


def _logit(probability: Scores) -> Array:
    clipped = np.clip(probability.astype(np.float64), 1e-4, 1 - 1e-4)
    return np.log(clipped / (1 - clipped))


def _relu(x: Array) -> Array:
    return np.maximum(x, 0.0)


def _max_pool(x: Array) -> Array:
    """2x2 max pooling of ``(N, H, W, C)`` (an odd last row or column is dropped)."""
    count, height, width, channels = x.shape
    x = x[:, : height // 2 * 2, : width // 2 * 2]
    return x.reshape(count, height // 2, 2, width // 2, 2, channels).max(axis=(2, 4))
