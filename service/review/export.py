"""Reviewed items as a YOLO dataset for the next training round: confirmed → labels, rejected → negatives.

Each exported image is a clean frame from the evidence folder (an evidence row of a ``frame_kinds`` kind with a
sighting, whose box is in that frame's pixels). A confirmed candidate adds one label line (its class after any
relabel) to its frames; a hard-negative rejection (see :mod:`service.review.negatives`) adds its frames with no
label line, so an image with only rejected objects gets an empty label file. Frames are keyed by SHA-256: a frame
shared by several candidates is written once with all their labels.

Annotated evidence (kind ``frame`` from scans: a box drawn in and a caption band added) must not be trained on, so
only kind ``source`` (the clean best frame) is used by default; external detections, whose ``frame`` evidence is
the system's own clean image, can add ``frame``.

Layout (what ``yolo train data=<out>/data.yaml`` reads)::

    out/data.yaml                 path, train, val, names (class id = taxonomy order)
    out/images/{train,val}/<sha256 prefix>.<ext>
    out/labels/{train,val}/<sha256 prefix>.txt     "class cx cy w h" normalised, or empty
    out/manifest.jsonl            one line per image: candidates, boxes, split
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.models.review import ReviewAction
from service.db.models.violations import Candidate
from service.errors import Invalid
from service.posting.payload import default_taxonomy
from service.review.negatives import HARD_NEGATIVE_REASONS, EvidenceItem, evidence_of, hard_negatives
from vision.taxonomy import Taxonomy

DEFAULT_FRAME_KINDS = ("source",)


@dataclass(frozen=True)
class Skipped:
    """Evidence that could not be exported, and why (missing file, no box, outside the evidence folder …)."""

    candidate_id: int
    path: str
    reason: str


@dataclass(frozen=True)
class ExportSummary:
    """What :func:`export_yolo` wrote.

    Attributes:
        out_dir: The dataset folder.
        data_yaml: Its ``data.yaml``.
        images: Images written.
        labelled: Of those, images with at least one label.
        negatives: Of those, images with an empty label file.
        boxes: Label lines written.
        candidates: Candidates that contributed at least one image.
        skipped: Evidence left out, with the reason.
    """

    out_dir: Path
    data_yaml: Path
    images: int
    labelled: int
    negatives: int
    boxes: int
    candidates: int
    skipped: tuple[Skipped, ...]


@dataclass
class _Frame:
    source: Path
    sha256: str
    width: int
    height: int
    lines: list[str] = field(default_factory=list)
    candidates: list[dict[str, object]] = field(default_factory=list)


def export_yolo(
    session: Session,
    *,
    evidence_dir: Path,
    out_dir: Path,
    since: datetime | None = None,
    frame_kinds: Sequence[str] = DEFAULT_FRAME_KINDS,
    negative_reasons: Sequence[str] = HARD_NEGATIVE_REASONS,
    val_fraction: float = 0.1,
    taxonomy: Taxonomy | None = None,
) -> ExportSummary:
    """Write confirmed and hard-negative candidates decided at or after ``since`` as a YOLO dataset.

    Args:
        session: Any session (only reads).
        evidence_dir: The evidence folder the evidence paths are relative to.
        out_dir: A new or empty folder for the dataset.
        since: Only decisions from then on; ``None``: all.
        frame_kinds: Evidence kinds that are clean frames (see the module docstring).
        negative_reasons: Reject reasons exported as negatives.
        val_fraction: Share of images in the validation split, chosen by SHA-256 (stable across exports).
        taxonomy: Class ids and names; the repository's taxonomy by default.

    Raises:
        Invalid: ``out_dir`` exists and is not empty, ``val_fraction`` outside [0, 1), unknown reasons, naive
            ``since``.
    """
    taxonomy = taxonomy or default_taxonomy()
    if not 0 <= val_fraction < 1:
        raise Invalid(f"{val_fraction} is not in [0, 1)", field="val_fraction")
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise Invalid(f"{out_dir} exists and is not an empty folder", field="out_dir")
    root = evidence_dir.resolve()
    frames: dict[str, _Frame] = {}
    skipped: list[Skipped] = []
    contributed: set[int] = set()
    reviewed: list[tuple[int, int | None, tuple[EvidenceItem, ...]]] = []
    for candidate, items in _confirmed(session, since=since).items():
        if candidate.class_name not in taxonomy:
            skipped.append(Skipped(candidate.id, "", f"class {candidate.class_name!r} is not in {taxonomy.path}"))
            continue
        reviewed.append((candidate.id, taxonomy.class_names.index(candidate.class_name), items))
    for negative in hard_negatives(session, since=since, reasons=negative_reasons):
        reviewed.append((negative.candidate_id, None, negative.evidence))
    for candidate_id, label, items in reviewed:
        frames_of_kind = [item for item in items if item.kind in frame_kinds]
        if not frames_of_kind:
            skipped.append(Skipped(candidate_id, "", f"no evidence of kind {', '.join(frame_kinds)}"))
        for item in frames_of_kind:
            if _add(frames, skipped, root, candidate_id, item, label=label):
                contributed.add(candidate_id)
    return _write(out_dir, frames, skipped, contributed, taxonomy=taxonomy, val_fraction=val_fraction)


def _confirmed(session: Session, *, since: datetime | None) -> dict[Candidate, tuple[EvidenceItem, ...]]:
    query = (
        select(Candidate)
        .join(ReviewAction, ReviewAction.candidate_id == Candidate.id)
        .where(Candidate.status == "confirmed", ReviewAction.action == "confirm", ReviewAction.undone_by_id.is_(None))
        .order_by(Candidate.id)
    )
    if since is not None:
        query = query.where(ReviewAction.created_at >= since)
    candidates = list(session.scalars(query).unique())
    evidence = evidence_of(session, candidate_ids=[c.id for c in candidates])
    return {candidate: evidence.get(candidate.id, ()) for candidate in candidates}


def _add(
    frames: dict[str, _Frame],
    skipped: list[Skipped],
    root: Path,
    candidate_id: int,
    item: EvidenceItem,
    *,
    label: int | None,
) -> bool:
    """Put one evidence frame (and its label, if any) into ``frames``; ``False`` if it was not usable."""
    problem, frame = _open(frames, root, item)
    if frame is None or item.box is None:
        skipped.append(Skipped(candidate_id, item.path, problem or "its sighting has no box"))
        return False
    entry: dict[str, object] = {"candidate_id": candidate_id, "box": list(item.box), "label": label}
    if label is not None:
        line = _yolo_line(label, item.box, frame.width, frame.height)
        if line is None:
            skipped.append(Skipped(candidate_id, item.path, f"box {item.box} is empty inside the frame"))
            return False
        frame.lines.append(line)
    frame.candidates.append(entry)
    return True


def _open(frames: dict[str, _Frame], root: Path, item: EvidenceItem) -> tuple[str | None, _Frame | None]:
    if item.sha256 in frames:
        return None, frames[item.sha256]
    source = (root / item.path).resolve()
    if not source.is_relative_to(root):
        return "the path leaves the evidence folder", None
    try:
        with Image.open(source) as image:
            width, height = image.size
    except OSError as error:
        return f"cannot read the image: {error}", None
    frames[item.sha256] = _Frame(source=source, sha256=item.sha256, width=width, height=height)
    return None, frames[item.sha256]


def _yolo_line(class_id: int, box: tuple[float, float, float, float], width: int, height: int) -> str | None:
    x1, y1, x2, y2 = max(box[0], 0.0), max(box[1], 0.0), min(box[2], float(width)), min(box[3], float(height))
    if x2 <= x1 or y2 <= y1:
        return None
    cx, cy, w, h = (x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (x2 - x1) / width, (y2 - y1) / height
    return f"{class_id} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}"


def _write(
    out_dir: Path,
    frames: dict[str, _Frame],
    skipped: list[Skipped],
    contributed: set[int],
    *,
    taxonomy: Taxonomy,
    val_fraction: float,
) -> ExportSummary:
    manifest = []
    splits_used = set()
    for sha256, frame in sorted(frames.items()):
        split = "val" if int(sha256[:8], 16) / 0x1_0000_0000 < val_fraction else "train"
        splits_used.add(split)
        name = f"{sha256[:16]}{frame.source.suffix.lower() or '.jpg'}"
        for folder in ("images", "labels"):
            (out_dir / folder / split).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(frame.source, out_dir / "images" / split / name)
        lines = "".join(f"{line}\n" for line in frame.lines)
        (out_dir / "labels" / split / f"{Path(name).stem}.txt").write_text(lines, encoding="utf-8")
        manifest.append({"image": f"images/{split}/{name}", "sha256": sha256, "candidates": frame.candidates})
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "manifest.jsonl").open("w", encoding="utf-8") as stream:
        stream.writelines(json.dumps(entry, ensure_ascii=False) + "\n" for entry in manifest)
    data = {
        "path": str(out_dir.resolve()),
        "train": "images/train",
        "val": "images/val" if "val" in splits_used else "images/train",
        "names": dict(enumerate(taxonomy.class_names)),
        "kind": "review-export",
    }
    data_yaml = out_dir / "data.yaml"
    data_yaml.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    labelled = sum(1 for frame in frames.values() if frame.lines)
    return ExportSummary(
        out_dir=out_dir,
        data_yaml=data_yaml,
        images=len(frames),
        labelled=labelled,
        negatives=len(frames) - labelled,
        boxes=sum(len(frame.lines) for frame in frames.values()),
        candidates=len(contributed),
        skipped=tuple(skipped),
    )
