"""Measuring the comparer on labelled pairs: region precision/recall/F1 per kind, false regions, alignment.

A pair is a folder holding ``reference.<ext>``, ``current.<ext>`` and one JSON file of truth:

    {"kind": "change" | "light_only" | "shift_only" | "passers_only",
     "regions": [{"box": [x1, y1, x2, y2], "kind": "new" | "gone", "class": "shed"}],
     "transients": [[x1, y1, x2, y2], ...]}            # optional: people/vehicles, current pixels

Boxes are in current-image pixels. A predicted region finds a true one of the same kind at IoU >= 0.3
(one-to-one, best IoU first). Pairs without true regions are negatives; every region predicted there
is a false region.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from vision.compare.comparer import ImageComparer
from vision.compare.masks import read_image
from vision.compare.types import ChangeRegion, ChangeResult
from vision.detections import box_iou
from vision.errors import SourceError

KINDS = ("new", "gone")
MATCH_IOU = 0.3
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
_TRANSIENT_KEYS = ("transients", "passers", "people")


@dataclass(frozen=True)
class TruthRegion:
    """A labelled change: box in current pixels, kind, and the object class if known."""

    box: tuple[float, float, float, float]
    kind: str
    cls: str | None = None


@dataclass(frozen=True)
class PairTruth:
    """What a pair really holds."""

    kind: str
    regions: tuple[TruthRegion, ...]
    transients: tuple[tuple[float, float, float, float], ...] = ()


@dataclass(frozen=True, eq=False)
class LabelledPair:
    """A pair to evaluate on."""

    name: str
    reference: npt.NDArray[np.uint8]
    current: npt.NDArray[np.uint8]
    truth: PairTruth


@dataclass(frozen=True)
class KindScore:
    """Counts and rates for one kind of change."""

    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        real = self.true_positives + self.false_negatives
        return self.true_positives / real if real else 1.0

    @property
    def f1(self) -> float:
        total = 2 * self.true_positives + self.false_positives + self.false_negatives
        return 2 * self.true_positives / total if total else 1.0


@dataclass(frozen=True)
class PairOutcome:
    """One pair's result: per-kind counts, predicted regions, alignment, time."""

    name: str
    pair_kind: str
    aligned: bool
    counts: dict[str, tuple[int, int, int]]  # kind -> (tp, fp, fn)
    predicted: int
    truths: int
    milliseconds: float


@dataclass(frozen=True)
class EvalReport:
    """Summary over a set of pairs."""

    pairs: int
    negatives: int
    aligned_rate: float
    per_kind: dict[str, KindScore]
    false_regions_per_negative: float
    false_regions_by_pair_kind: dict[str, float]
    mean_milliseconds: float
    outcomes: tuple[PairOutcome, ...] = field(default=(), repr=False)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary (without the per-pair outcomes)."""
        return {
            "pairs": self.pairs,
            "negatives": self.negatives,
            "aligned_rate": round(self.aligned_rate, 4),
            "per_kind": {
                kind: {
                    **asdict(score),
                    "precision": round(score.precision, 4),
                    "recall": round(score.recall, 4),
                    "f1": round(score.f1, 4),
                }
                for kind, score in self.per_kind.items()
            },
            "false_regions_per_negative": round(self.false_regions_per_negative, 4),
            "false_regions_by_pair_kind": {k: round(v, 4) for k, v in self.false_regions_by_pair_kind.items()},
            "mean_ms": round(self.mean_milliseconds, 1),
        }


def match_regions(predicted: Sequence[ChangeRegion], truth: Sequence[TruthRegion]) -> dict[str, tuple[int, int, int]]:
    """Count true positives, false positives and false negatives per kind.

    Args:
        predicted: The comparer's regions.
        truth: The labelled regions.

    Returns:
        ``{kind: (tp, fp, fn)}`` for ``"new"`` and ``"gone"``.
    """
    counts = {}
    for kind in KINDS:
        mine = np.asarray([r.box for r in predicted if r.kind == kind], np.float32).reshape(-1, 4)
        real = np.asarray([t.box for t in truth if t.kind == kind], np.float32).reshape(-1, 4)
        matched = 0
        if len(mine) and len(real):
            iou = box_iou(mine, real)
            while iou.size and iou.max() >= MATCH_IOU:
                row, col = np.unravel_index(int(np.argmax(iou)), iou.shape)
                matched += 1
                iou[row, :] = -1.0
                iou[:, col] = -1.0
        counts[kind] = (matched, len(mine) - matched, len(real) - matched)
    return counts


def evaluate(comparer: ImageComparer, pairs: Iterable[LabelledPair], *, use_transients: bool = True) -> EvalReport:
    """Run the comparer on every pair and score it.

    Args:
        comparer: The comparer to measure.
        pairs: Labelled pairs.
        use_transients: Pass the truth's transient boxes (people, vehicles) as ``ignore_boxes``, as a
            person/vehicle detector would.

    Returns:
        The report, with per-pair outcomes.
    """
    outcomes = []
    for pair in pairs:
        boxes = np.asarray(pair.truth.transients, np.float32).reshape(-1, 4) if use_transients else None
        start = time.perf_counter()
        result = comparer.compare(pair.reference, pair.current, ignore_boxes=boxes)
        elapsed = (time.perf_counter() - start) * 1000.0
        outcomes.append(_outcome(pair, result, elapsed))
    return summarise(outcomes)


def summarise(outcomes: Sequence[PairOutcome]) -> EvalReport:
    """Aggregate per-pair outcomes into a report."""
    per_kind = {kind: KindScore(*(sum(o.counts[kind][i] for o in outcomes) for i in range(3))) for kind in KINDS}
    negatives = [o for o in outcomes if o.truths == 0]
    by_kind: dict[str, list[int]] = {}
    for outcome in negatives:
        by_kind.setdefault(outcome.pair_kind, []).append(outcome.predicted)
    return EvalReport(
        pairs=len(outcomes),
        negatives=len(negatives),
        aligned_rate=sum(o.aligned for o in outcomes) / len(outcomes) if outcomes else 0.0,
        per_kind=per_kind,
        false_regions_per_negative=sum(o.predicted for o in negatives) / len(negatives) if negatives else 0.0,
        false_regions_by_pair_kind={kind: sum(v) / len(v) for kind, v in sorted(by_kind.items())},
        mean_milliseconds=float(np.mean([o.milliseconds for o in outcomes])) if outcomes else 0.0,
        outcomes=tuple(outcomes),
    )


def _outcome(pair: LabelledPair, result: ChangeResult, milliseconds: float) -> PairOutcome:
    return PairOutcome(
        name=pair.name,
        pair_kind=pair.truth.kind,
        aligned=result.aligned,
        counts=match_regions(result.regions, pair.truth.regions),
        predicted=len(result.regions),
        truths=len(pair.truth.regions),
        milliseconds=milliseconds,
    )


def find_pairs(root: str | Path) -> list[Path]:
    """Folders under ``root`` (itself included) that hold a reference image, a current image and a JSON."""
    root = Path(root)
    if not root.is_dir():
        raise SourceError(str(root), "not a folder of pairs")
    folders = [root, *sorted(p for p in root.rglob("*") if p.is_dir())]
    return [folder for folder in folders if _pair_files(folder) is not None]


def load_pairs(root: str | Path) -> Iterator[LabelledPair]:
    """Read every pair under ``root`` (see :func:`find_pairs`), in sorted order.

    Raises:
        SourceError: ``root`` is not a folder, or a pair's images or JSON are unreadable or malformed.
    """
    root = Path(root)
    for folder in find_pairs(root):
        files = _pair_files(folder)
        assert files is not None
        reference, current, truth = files
        yield LabelledPair(
            name=str(folder.relative_to(root)) if folder != root else folder.name,
            reference=read_image(reference),
            current=read_image(current),
            truth=read_truth(truth),
        )


def read_truth(path: str | Path) -> PairTruth:
    """Parse a pair's truth JSON (format in the module docstring).

    Raises:
        SourceError: Unreadable JSON or a malformed region.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SourceError(str(path), f"not valid JSON ({error})") from error
    if not isinstance(data, dict):
        raise SourceError(str(path), "expected a JSON object with 'regions'")
    regions = []
    for index, item in enumerate(data.get("regions") or []):
        try:
            box = tuple(float(v) for v in item["box"])
            kind = str(item["kind"])
        except (KeyError, TypeError, ValueError) as error:
            raise SourceError(str(path), f"region {index} needs 'box' [x1, y1, x2, y2] and 'kind'") from error
        if len(box) != 4 or kind not in KINDS:
            raise SourceError(str(path), f"region {index}: box must have 4 numbers and kind be new or gone")
        cls = item.get("class", item.get("label"))
        regions.append(TruthRegion((box[0], box[1], box[2], box[3]), kind, None if cls is None else str(cls)))
    transients: list[object] = next((data[key] for key in _TRANSIENT_KEYS if key in data), [])
    boxes = tuple(_transient_box(path, entry) for entry in transients)
    pair_kind = str(data.get("kind", data.get("pair_kind", "change" if regions else "unchanged")))
    return PairTruth(pair_kind, tuple(regions), boxes)


def _transient_box(path: Path, entry: object) -> tuple[float, float, float, float]:
    values = entry.get("box") if isinstance(entry, dict) else entry
    try:
        x1, y1, x2, y2 = (float(v) for v in values)  # type: ignore[union-attr]
    except (TypeError, ValueError) as error:
        raise SourceError(str(path), f"transient {entry!r} is not a box [x1, y1, x2, y2]") from error
    return (x1, y1, x2, y2)


def _pair_files(folder: Path) -> tuple[Path, Path, Path] | None:
    images = {p.stem.lower(): p for p in folder.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES}
    truths = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".json")
    if "reference" not in images or "current" not in images or not truths:
        return None
    return images["reference"], images["current"], truths[0]
