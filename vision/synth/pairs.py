"""Reference / current image pairs of the same place, with the truth of what appeared and disappeared.

Kinds of pair:
    change        labelled objects added ("new") or removed ("gone"); other passers-by, maybe other light
                  and a small camera drift as well;
    light_only    the same street at another hour or weather;
    shift_only    the camera moved a little;
    passers_only  only people and traffic differ.

Boxes are in current-image pixels (a "gone" box is where the object would be seen now).
Rain and fog are left out of pairs: the streaks and haze differ between any two shots.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from vision.synth.classes import CLASS_NAMES
from vision.synth.conditions import Conditions, sample_conditions
from vision.synth.effects import apply_camera, encode_jpeg
from vision.synth.ground import StreetLayout
from vision.synth.parallel import run_jobs
from vision.synth.primitives import Image, SceneObject
from vision.synth.render import LabelRules, Rendered, render
from vision.synth.scene import Scene, generate_scene, make_passers
from vision.synth.views import ViewSpec, clear_of_camera, sample_view, visible_spans

PAIR_KINDS = ("change", "light_only", "shift_only", "passers_only")
PAIR_WEATHERS = ("sunny", "hazy", "overcast", "dusk")
# Change truth keeps to objects mostly in view and in frame (no exception for big visible parts).
TRUTH_RULES = LabelRules(min_box_px=10.0, min_visible=0.35, min_in_image=0.4, big_visible_px=float("inf"))
_CHANGE_WEIGHTS = {  # what tends to appear or vanish between two visits, by class name
    "vendor_stall": 3.0, "goods_outside_shop": 2.0, "material_pile": 3.0, "banner": 2.0, "poster": 1.0,
    "ad_board": 2.0, "signboard": 0.4, "cantilever": 0.5, "win_ad": 0.2, "shed": 3.0, "rooftop_addition": 3.0,
}  # fmt: skip
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class PairRegion:
    """One true change: box in current pixels, ``new`` or ``gone``, the class, and the scene object id."""

    box: Box
    kind: str
    class_name: str
    object_id: int


@dataclass(frozen=True, eq=False)
class Pair:
    """A reference / current pair and its truth."""

    kind: str
    reference: Image
    current: Image
    reference_quality: int
    current_quality: int
    regions: tuple[PairRegion, ...]
    transients: tuple[Box, ...]
    reference_view: ViewSpec
    current_view: ViewSpec
    reference_conditions: Conditions
    current_conditions: Conditions

    def truth(self) -> dict[str, object]:
        """The truth JSON the comparer's evaluator reads (``vision.compare.evaluate``)."""
        return {
            "kind": self.kind,
            "regions": [
                {"box": [round(v, 1) for v in r.box], "kind": r.kind, "class": r.class_name, "object_id": r.object_id}
                for r in self.regions
            ],
            "transients": [[round(v, 1) for v in box] for box in self.transients],
            "view": self.current_view.kind,
            "weather": [self.reference_conditions.weather, self.current_conditions.weather],
        }


def _weather(rng: np.random.Generator) -> Conditions:
    conditions = sample_conditions(rng, str(rng.choice(PAIR_WEATHERS)))
    return replace(conditions, motion_blur_px=0.0)


def _drift(rng: np.random.Generator, view: ViewSpec) -> ViewSpec:
    """A small camera movement: a re-mounted camera, a PTZ preset that does not return exactly."""
    dx, dy, dz = (float(v) for v in rng.uniform(-0.3, 0.3, 3))
    return view.moved(dx, dy, dz * 0.5, float(rng.uniform(-2.0, 2.0)), float(rng.uniform(-1.5, 1.5)))


def _union(a: dict[str, tuple[float, float]], b: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    out = dict(a)
    for side, (lo, hi) in b.items():
        out[side] = (min(lo, out[side][0]), max(hi, out[side][1])) if side in out else (lo, hi)
    return out


def _visible_boxes(rendered: Rendered, indices: list[int], min_px: float = 6.0) -> list[Box]:
    """Boxes of the visible pixels of the objects at ``indices`` of the rendered list."""
    boxes = []
    for index in indices:
        ys, xs = np.nonzero(rendered.ids == index + 1)
        if len(xs) and xs.max() - xs.min() + 1 >= min_px and ys.max() - ys.min() + 1 >= min_px:
            boxes.append((float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)))
    return boxes


def _choose_changes(rng: np.random.Generator, scene: Scene, seen: Rendered) -> dict[int, str]:
    """Pick 1-4 clearly visible labelled objects and whether each is new or gone."""
    truth = seen.truth
    candidates, weights = [], []
    tracks = truth.track_id if truth.track_id is not None else np.zeros(0, np.int64)
    for box, class_id, object_id in zip(truth.xyxy, truth.class_id, tracks, strict=True):
        area = float((box[2] - box[0]) * (box[3] - box[1]))
        if area >= 24 * 24 and seen.visible_fraction.get(int(object_id), 0.0) >= 0.6:
            candidates.append(int(object_id))
            weights.append(_CHANGE_WEIGHTS[CLASS_NAMES[int(class_id)]])
    if not candidates:
        return {}
    count = min(int(rng.integers(1, 5)), len(candidates))
    p = np.asarray(weights) / sum(weights)
    chosen = rng.choice(candidates, size=count, replace=False, p=p)
    return {int(o): ("new" if rng.random() < 0.6 else "gone") for o in chosen}


def _regions(changes: dict[int, str], before: Rendered, after: Rendered, scene: Scene) -> tuple[PairRegion, ...]:
    """Truth boxes: a new object as seen now; a gone one where it was, seen from the current camera."""
    out = []
    for source, kind in ((after, "new"), (before, "gone")):
        truth = source.truth
        tracks = [] if truth.track_id is None else truth.track_id.tolist()
        for box, class_id, object_id in zip(truth.xyxy.tolist(), truth.class_id.tolist(), tracks, strict=True):
            if changes.get(int(object_id)) == kind:
                out.append(PairRegion((box[0], box[1], box[2], box[3]), kind, CLASS_NAMES[class_id], int(object_id)))
    return tuple(sorted(out, key=lambda r: (r.kind, r.object_id)))


def _pair_rng(seed: int, index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(index), 2]))  # apart from scenes' streams


def _indices(objects: list[SceneObject], wanted: list[SceneObject]) -> list[int]:
    keys = {id(o) for o in wanted}
    return [i for i, o in enumerate(objects) if id(o) in keys]


def _attempt(rng: np.random.Generator, kind: str, size: tuple[int, int]) -> Pair | None:
    layout = StreetLayout.sample(rng)
    reference_view = sample_view(rng, layout)
    drift = kind == "shift_only" or (kind == "change" and rng.random() < 0.5)
    current_view = _drift(rng, reference_view) if drift else reference_view
    reference_camera, current_camera = reference_view.camera(size), current_view.camera(size)
    spans = _union(visible_spans(reference_camera, layout), visible_spans(current_camera, layout))
    scene = generate_scene(rng, layout, spans, passers=False)
    reference_passers = make_passers(rng, scene, spans)
    same_passers = kind in ("light_only", "shift_only")
    current_passers = reference_passers if same_passers else make_passers(rng, scene, spans)
    reference_conditions = _weather(rng)
    relight = kind == "light_only" or (kind == "change" and rng.random() < 0.5)
    current_conditions = _weather(rng) if relight else reference_conditions
    changes: dict[int, str] = {}
    seen: Rendered | None = None
    if kind == "change":
        everything = clear_of_camera(scene.objects + current_passers, current_camera)
        seen = render(everything, current_camera, current_conditions, TRUTH_RULES)
        changes = _choose_changes(rng, scene, seen)
        if not changes:
            return None
    before = [o for o in scene.objects if changes.get(o.object_id) != "new"] + reference_passers
    after = [o for o in scene.objects if changes.get(o.object_id) != "gone"] + current_passers
    before = clear_of_camera(before, reference_camera)
    after = clear_of_camera(after, current_camera)
    reference = render(before, reference_camera, reference_conditions, TRUTH_RULES)
    current = render(after, current_camera, current_conditions, TRUTH_RULES)
    regions = _regions(changes, seen, current, scene) if seen is not None else ()
    transients = _visible_boxes(current, _indices(after, current_passers))
    transients += _visible_boxes(reference, _indices(before, reference_passers))
    return Pair(
        kind=kind,
        reference=apply_camera(reference.image, reference_conditions, rng),
        current=apply_camera(current.image, current_conditions, rng),
        reference_quality=max(reference_conditions.jpeg_quality, 60),
        current_quality=max(current_conditions.jpeg_quality, 60),
        regions=regions,
        transients=tuple(transients),
        reference_view=reference_view,
        current_view=current_view,
        reference_conditions=reference_conditions,
        current_conditions=current_conditions,
    )


def make_pair(seed: int, index: int, size: tuple[int, int] = (960, 540), kind: str | None = None) -> Pair:
    """Render pair ``index`` of pair set ``seed``; ``kind`` forces one of ``PAIR_KINDS``.

    About half the pairs are ``change``; the rest split evenly over the three negatives.
    """
    if kind is not None and kind not in PAIR_KINDS:
        raise ValueError(f"pair kind must be one of {', '.join(PAIR_KINDS)}, got {kind!r}")
    rng = _pair_rng(seed, index)
    chosen = kind or str(rng.choice(PAIR_KINDS, p=[0.5, 1 / 6, 1 / 6, 1 / 6]))
    for _ in range(8):  # a change pair needs a view with something clearly visible to change
        pair = _attempt(rng, chosen, size)
        if pair is not None:
            return pair
    raise RuntimeError(f"pair {seed}/{index}: no view with a visible object to change after 8 tries")


@dataclass(frozen=True)
class PairsSummary:
    """What ``write_pairs`` wrote: pair count per kind and regions per kind."""

    out: Path
    pairs_by_kind: dict[str, int]
    regions_by_kind: dict[str, int]
    seconds: float


def pair_name(index: int) -> str:
    """Folder name of pair ``index``."""
    return f"pair_{index:06d}"


def _write_pair(job: tuple[Path, int, int, tuple[int, int]]) -> tuple[str, str, list[str]]:
    out, seed, index, size = job
    pair = make_pair(seed, index, size)
    folder = out / pair_name(index)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "reference.jpg").write_bytes(encode_jpeg(pair.reference, pair.reference_quality))
    (folder / "current.jpg").write_bytes(encode_jpeg(pair.current, pair.current_quality))
    truth = pair.truth()
    (folder / "truth.json").write_text(json.dumps(truth) + "\n")
    return folder.name, pair.kind, [r.kind for r in pair.regions]


def write_pairs(out: Path, seed: int, count: int, size: tuple[int, int] = (960, 540), workers: int = 1) -> PairsSummary:
    """Write ``count`` pairs as folders ``pair_NNNNNN/{reference.jpg, current.jpg, truth.json}`` plus ``pairs.json``.

    The layout is what ``xiuhua compare-eval`` reads. Pair ``i`` depends only on ``(seed, i, size)``.
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(out, seed, index, size) for index in range(count)]
    written = list(run_jobs(_write_pair, jobs, workers))
    by_kind = {kind: sum(1 for _, k, _ in written if k == kind) for kind in PAIR_KINDS}
    regions = {kind: sum(r.count(kind) for _, _, r in written) for kind in ("new", "gone")}
    index = [{"name": name, "kind": kind, "regions": r} for name, kind, r in written]
    manifest = {"seed": seed, "count": count, "size": list(size), "pairs": index}
    (out / "pairs.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return PairsSummary(out, by_kind, regions, time.perf_counter() - started)
