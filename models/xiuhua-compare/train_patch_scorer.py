"""Train the comparer's patch scorer (vision/compare/patch_scorer.py) on generated pairs; needs torch (CPU).

    OMP_NUM_THREADS=1 .venv/bin/python models/xiuhua-compare/train_patch_scorer.py \
        --pairs DIR [--pairs DIR ...] --out models/xiuhua-compare/patch-scorer.npz

Every pair is aligned and its candidates cut by the comparer's own stages (as `xiuhua compare-train`
does; half the pairs see the truth's passers-by boxes); the candidates the shipped region scorer gives at
least `CompareSettings.patch_prefilter` are kept with their patches, features and the region scorer's two
outputs. The network (the shape `PatchScorer` reads) learns each one's best IoU with a true box (soft
cross-entropy) and, for those at IoU >= 0.3, that box's kind. The region scorer must not have been
trained on these pairs: its outputs on them must be as honest as on new pairs.
"""

from __future__ import annotations

import argparse
import sys
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from vision.compare.changemap import change_map
from vision.compare.comparer import ImageComparer
from vision.compare.evaluate import MATCH_IOU, load_pairs
from vision.compare.patch_scorer import PATCH_CHANNELS, PATCH_SIZE, cut_patches
from vision.compare.scorer import FEATURE_NAMES, RegionScorer
from vision.compare.types import CompareSettings
from vision.detections import box_iou


class Net(nn.Module):
    """Three 3x3 convolutions (two 2x2 max pools), mean and max pooled, with the standardised features
    and region-scorer logits into two dense layers; two logits out (fit, new)."""

    def __init__(self, mean: np.ndarray, scale: np.ndarray, channels: tuple[int, int, int], hidden: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32))
        c1, c2, c3 = channels
        self.c1 = nn.Conv2d(PATCH_CHANNELS, c1, 3, padding=1)
        self.c2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.c3 = nn.Conv2d(c2, c3, 3, padding=1)
        self.f1 = nn.Linear(2 * c3 + len(mean), hidden)
        self.f2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, 2)

    def forward(self, patch: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        x = patch * (1 / 255.0)
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = F.relu(self.c3(x))
        pooled = torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], 1)
        hidden = F.relu(self.f1(torch.cat([pooled, (inputs - self.mean) / self.scale], 1)))
        return self.out(F.relu(self.f2(hidden)))


def logit(p: np.ndarray) -> np.ndarray:
    clipped = np.clip(p.astype(np.float64), 1e-4, 1 - 1e-4)
    return np.log(clipped / (1 - clipped))


def collect(roots: list[Path], seed: int) -> dict[str, np.ndarray]:
    """Patches, inputs (features and region-scorer logits), targets and kinds of the promising candidates."""
    settings = CompareSettings()
    comparer = ImageComparer(replace(settings, scorer=None))
    region = RegionScorer(settings.scorer or "")
    parts: dict[str, list[np.ndarray]] = {"patches": [], "inputs": [], "targets": [], "kinds": []}
    for root in roots:
        for index, pair in enumerate(load_pairs(root)):
            prepared = comparer.prepare(pair.reference, pair.current)
            if isinstance(prepared, str):
                continue
            maps = change_map(prepared.reference, prepared.current, prepared.valid, comparer.settings)
            shown = zlib.crc32(f"{seed}/{pair.name}".encode()) / 2**32 < 0.5
            passers = np.asarray(pair.truth.transients, np.float32).reshape(-1, 4) if shown else None
            keep, transient, _, _ = comparer.masks(prepared, ignore_boxes=passers)
            proposals, features = comparer.candidates(prepared, maps, keep, transient)
            fit, new = region.score(features), region.new_probability(features)
            promising = np.flatnonzero(fit >= settings.patch_prefilter)
            if not len(promising):
                continue
            truth = np.asarray([t.box for t in pair.truth.regions], np.float32).reshape(-1, 4) * prepared.scale
            is_new = np.asarray([t.kind == "new" for t in pair.truth.regions], np.float32)
            boxes = np.asarray([proposals[i].box for i in promising], np.float32)
            overlaps = box_iou(boxes, truth) if len(truth) else np.zeros((len(boxes), 1), np.float32)
            chosen = [proposals[i] for i in promising]
            parts["patches"].append(
                cut_patches(prepared.current, prepared.reference, maps.extent, maps.evidence, transient, chosen)
            )
            inputs = np.concatenate(
                [features[promising], logit(fit[promising])[:, None], logit(new[promising])[:, None]], 1
            )
            parts["inputs"].append(inputs.astype(np.float32))
            parts["targets"].append(overlaps.max(axis=1).astype(np.float32))
            parts["kinds"].append(is_new[overlaps.argmax(axis=1)] if len(truth) else np.zeros(len(boxes), np.float32))
            if (index + 1) % 100 == 0:
                print(f"{root}: {index + 1} pairs", flush=True)
    return {key: np.concatenate(value) for key, value in parts.items()}


def train(data: dict[str, np.ndarray], epochs: int, seed: int, channels: tuple[int, int, int], hidden: int) -> Net:
    """AdamW with a one-cycle learning rate; the kind loss counts only candidates that fit a true box."""
    torch.manual_seed(seed)
    inputs = data["inputs"]
    net = Net(inputs.mean(0), inputs.std(0) + 1e-6, channels, hidden)
    patches, features = torch.from_numpy(data["patches"]), torch.from_numpy(inputs)
    targets, kinds = torch.from_numpy(data["targets"]), torch.from_numpy(data["kinds"])
    optimiser = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    batch = 256
    steps = epochs * ((len(targets) + batch - 1) // batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=2e-3, total_steps=steps, pct_start=0.1)
    for epoch in range(epochs):
        net.train()
        order, total = torch.randperm(len(targets)), 0.0
        for first in range(0, len(targets), batch):
            rows = order[first : first + batch]
            patch = patches[rows].float()
            if torch.rand(1).item() < 0.5:  # mirrored scenes are scenes too
                patch = patch.flip(3)
            out = net(patch, features[rows])
            fit_loss = F.binary_cross_entropy_with_logits(out[:, 0], targets[rows])
            matched = (targets[rows] >= MATCH_IOU).float()
            kind_loss = F.binary_cross_entropy_with_logits(out[:, 1], kinds[rows], reduction="none")
            loss = fit_loss + 0.5 * (kind_loss * matched).sum() / matched.sum().clamp(min=1)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item() * len(rows)
        print(f"epoch {epoch + 1}/{epochs}: loss {total / len(targets):.4f}", flush=True)
    return net


def export(net: Net, path: Path) -> None:
    """Write the weights as the ``.npz`` :class:`vision.compare.patch_scorer.PatchScorer` reads."""
    arrays = {key: value.detach().numpy().astype(np.float32) for key, value in net.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, names=np.asarray(FEATURE_NAMES), patch_size=np.asarray(PATCH_SIZE), **arrays)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=Path, action="append", required=True, help="Folder of labelled pairs.")
    parser.add_argument("--out", type=Path, default=Path("models/xiuhua-compare/patch-scorer.npz"))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--channels", default="16,32,32", help="Channels of the three convolutions.")
    parser.add_argument("--hidden", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = collect(args.pairs, args.seed)
    print(f"{len(data['targets'])} promising candidates", flush=True)
    net = train(data, args.epochs, args.seed, tuple(int(c) for c in args.channels.split(",")), args.hidden)
    export(net, args.out)
    print(f"patch scorer: {args.out}")


if __name__ == "__main__":
    main()
