"""How well the whole chain turns clips into candidates, measured on generated clips with ground truth.

Patrol: several passes of one street on different days (``xiuhua synth patrol``). Each pass is scanned like a real
patrol video (its GPX track, its camera mount), into one fresh database; the candidates left at the end are matched
one-to-one to the street's real violations of the same violation type within ``match_radius_m`` (15 m, the issue's
bar for positions). Reported: the share of real violations found, candidates per real violation found (every
unmatched candidate counts as a duplicate), and the position errors of the matches.

Matching by position alone lets a candidate "find" a neighbouring violation of its type that it does not show:
signs and window ads stand 3-5 m apart, well inside 15 m, so a duplicate candidate of one sign can stand in for the
unseen sign next door. ``found_shown`` therefore counts, besides, the violations matched (one-to-one, within the
same radius) to a candidate that shows them: one of the candidate's sightings has its best box on the violation's
true box in the same frame, by IoU >= ``SHOWN_IOU`` (the clips' ``pass_K_frames.jsonl``). That is what a reviewer
would see in the candidate's evidence; on the dev streets it is far below ``found`` (``docs/patrol-recall.md``).

Fixed camera: one clip (``xiuhua synth fixed``) with a vendor who stays for minutes, one who stops briefly and
passers-by; the first frame is the camera's reference (what was there before). Reported: the candidates and
whether exactly one — the staying stall — came out.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from sqlalchemy import select

from service.db import init_db, make_engine
from service.db.models import Candidate
from service.evidence import EvidenceStore
from service.pipeline.locate import CameraPositionLocator
from service.pipeline.record import SourceContext
from service.pipeline.source import FrameDetector
from service.pipeline.wiring import (
    RecordingServices,
    detector_names,
    patrol_locator,
    reference_baseline,
    run_source,
    tracking_settings,
)
from service.violations.records import Recorded
from vision.detections import box_iou
from vision.frame import GeoPoint
from vision.geo import PatrolSettings, distance_m
from vision.sighting import Sighting
from vision.sources import Sampling, open_source
from vision.taxonomy import load_taxonomy

DetectorFor = Callable[[Path], FrameDetector]  # video path → detector (a model, or that clip's ground truth)
SHOWN_IOU = 0.5  # a sighting shows a true object when its best box overlaps the object's true box this much
TruthBoxes = dict[int, tuple[list[int], np.ndarray]]  # frame index → (object ids, (N, 4) true boxes)


@dataclass(frozen=True)
class MatchReport:
    """Candidates matched to real violations.

    Attributes:
        violations: Real violations (seen in at least one pass).
        candidates: Candidates of violation types at the end of the run.
        found: Real violations with a candidate within the match radius.
        errors_m: Distance from each matched candidate to its violation.
        per_class: ``{class: {"violations", "found"}}`` (and ``"found_shown"`` when that is known).
        found_shown: Real violations matched to a candidate that shows them (module docstring); ``None`` when
            which object each candidate shows is not known.
    """

    violations: int
    candidates: int
    found: int
    errors_m: tuple[float, ...]
    per_class: dict[str, dict[str, int]] = field(default_factory=dict)
    found_shown: int | None = None

    @property
    def found_fraction(self) -> float:
        """Share of real violations found."""
        return self.found / self.violations if self.violations else 0.0

    @property
    def candidates_per_violation(self) -> float:
        """Candidates per real violation found (unmatched candidates count as duplicates)."""
        return self.candidates / self.found if self.found else math.inf

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        errors = np.asarray(self.errors_m) if self.errors_m else np.zeros(0)
        return {
            "violations": self.violations,
            "candidates": self.candidates,
            "found": self.found,
            "found_fraction": round(self.found_fraction, 4),
            "candidates_per_violation": round(self.candidates_per_violation, 4),
            "median_error_m": round(float(np.median(errors)), 2) if len(errors) else None,
            "within_15m": round(float(np.mean(errors <= 15.0)), 4) if len(errors) else None,
            "per_class": self.per_class,
            "found_shown": self.found_shown,
            "found_shown_fraction": (
                round(self.found_shown / self.violations, 4)
                if self.found_shown is not None and self.violations
                else None
            ),
        }


def match_candidates(
    violations: list[dict[str, Any]],
    candidates: list[Candidate],
    match_radius_m: float = 15.0,
    shown: Mapping[int, Collection[int]] | None = None,
) -> MatchReport:
    """One-to-one matching of candidates to violations of the same violation type, nearest first.

    Args:
        violations: The truth's violations (``object_id``, ``class``, ``lat``, ``lon``).
        candidates: The candidates at the end of the run.
        match_radius_m: A candidate farther than this from a violation does not find it.
        shown: Candidate id → object ids its sightings show; given, ``found_shown`` also counts the violations
            matched to a candidate that shows them.
    """
    taxonomy = load_taxonomy()
    errors: list[float] = []
    found_ids: set[int] = set()
    shown_ids: set[int] = set()
    for violation_type in {taxonomy.violation_of(str(v["class"])).key for v in violations}:
        truths = [v for v in violations if taxonomy.violation_of(str(v["class"])).key == violation_type]
        mine = [c for c in candidates if c.violation_type == violation_type]
        if not truths or not mine:
            continue
        cost = np.array(
            [
                [distance_m(GeoPoint(float(t["lat"]), float(t["lon"])), GeoPoint(c.lat, c.lon)) for c in mine]
                for t in truths
            ]
        )
        for row, col in _assigned(cost, match_radius_m):
            errors.append(float(cost[row, col]))
            found_ids.add(int(truths[row]["object_id"]))
        if shown is not None:
            shows = np.array([[int(t["object_id"]) in shown.get(c.id, ()) for c in mine] for t in truths], bool)
            for row, _ in _assigned(np.where(shows, cost, np.inf), match_radius_m):
                shown_ids.add(int(truths[row]["object_id"]))
    per_class: dict[str, dict[str, int]] = {}
    for violation in violations:
        entry = per_class.setdefault(str(violation["class"]), {"violations": 0, "found": 0})
        entry["violations"] += 1
        entry["found"] += int(int(violation["object_id"]) in found_ids)
        if shown is not None:
            entry["found_shown"] = entry.get("found_shown", 0) + int(int(violation["object_id"]) in shown_ids)
    found_shown = len(shown_ids) if shown is not None else None
    return MatchReport(len(violations), len(candidates), len(found_ids), tuple(errors), per_class, found_shown)


def _assigned(cost: np.ndarray, radius_m: float) -> list[tuple[int, int]]:
    """The (violation, candidate) pairs of the one-to-one assignment that lie within ``radius_m``, nearest first."""
    rows, cols = linear_sum_assignment(np.where(cost <= radius_m, cost, 1e6))
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if cost[r, c] <= radius_m]


def load_truth_boxes(path: Path) -> TruthBoxes:
    """A clip's ``*_frames.jsonl`` (true boxes per frame, with object ids) by frame index.

    Raises:
        ValueError: A line is malformed (named by file and line number).
    """
    out: TruthBoxes = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            boxes = np.asarray(record["boxes"], np.float32).reshape(-1, 4)
            out[int(record["frame"])] = ([int(i) for i in record["object_id"]], boxes)
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path}:{number}: malformed ground-truth line: {error}") from error
    return out


def shown_object(truth: TruthBoxes, sighting: Sighting) -> int | None:
    """The true object the sighting's best box shows: the best-overlapping one with IoU >= ``SHOWN_IOU``."""
    ids, boxes = truth.get(sighting.best_frame.index, ([], np.zeros((0, 4), np.float32)))
    if not ids:
        return None
    overlaps = box_iou(np.asarray(sighting.best_box, np.float32).reshape(1, 4), boxes)[0]
    best = int(np.argmax(overlaps))
    return ids[best] if overlaps[best] >= SHOWN_IOU else None


def evaluate_patrol(folder: Path, detector_for: DetectorFor, *, workdir: Path, fps: float = 2.0) -> MatchReport:
    """Scans every pass of a generated patrol folder into a fresh database and matches the candidates.

    Args:
        folder: Output of ``xiuhua synth patrol`` (``truth.json``, ``pass_K.mp4``, ``pass_K.gpx``).
        detector_for: Gives the detector for one pass's video.
        workdir: Where the database and evidence go (created).
        fps: Sampling rate of the scan.
    """
    truth = json.loads((folder / "truth.json").read_text())
    workdir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{workdir / 'evaluate.db'}")
    init_db(engine)
    services = RecordingServices.open(engine, evidence=EvidenceStore(workdir / "evidence"))
    shown: dict[int, set[int]] = {}
    told = True  # whether every pass had its true boxes, so what each candidate shows is known
    for info in truth["passes"]:
        video = folder / str(info["video"])
        detector = detector_for(video)
        boxes_file = folder / str(info.get("frames", f"{video.stem}_frames.jsonl"))
        truth_boxes = load_truth_boxes(boxes_file) if boxes_file.exists() else None
        told = told and truth_boxes is not None
        context = SourceContext(
            source_id=str(video),
            video_start=datetime.fromisoformat(str(info["start_time"]).replace("Z", "+00:00")),
            camera_key="patrol-1",
            camera_kind="patrol",
            camera_name="patrol vehicle 1",
        )
        with open_source(str(video), sampling=Sampling.parse(f"{fps:g}fps")) as frames:
            run_source(
                frames,
                detector=detector,
                settings=tracking_settings("patrol", detector, fps),
                services=services,
                locator=patrol_locator(folder / str(info["gpx"]), PatrolSettings.from_camera_metadata(info["camera"])),
                context=context,
                on_recorded=_noting(shown, truth_boxes),
            )
    with services.sessions() as session:
        candidates = list(session.scalars(select(Candidate)))
    engine.dispose()
    return match_candidates(list(truth["violations"]), candidates, shown=shown if told else None)


def _noting(shown: dict[int, set[int]], truth: TruthBoxes | None) -> Callable[[Sighting, Recorded], None]:
    """Notes in ``shown`` which true object each recorded sighting shows, under its candidate's id."""

    def note(sighting: Sighting, recorded: Recorded) -> None:
        if truth is not None and recorded.candidate_id is not None:
            seen = shown_object(truth, sighting)
            if seen is not None:
                shown.setdefault(recorded.candidate_id, set()).add(seen)

    return note


@dataclass(frozen=True)
class FixedReport:
    """Candidates from one fixed-camera clip.

    Attributes:
        candidates: ``(class_name, lat, lon, sightings)`` of each candidate.
        staying: Vendors of the clip that stay at least the stall dwell threshold.
        sightings: Sightings recorded (candidates and dropped).
        drop_reasons: Why the others were dropped, by reason.
    """

    candidates: tuple[tuple[str, float, float, int], ...]
    staying: int
    sightings: int
    drop_reasons: dict[str, int]

    @property
    def exactly_the_stall(self) -> bool:
        """One candidate, a vendor stall, and one vendor that stayed."""
        return self.staying == 1 and len(self.candidates) == 1 and self.candidates[0][0] == "vendor_stall"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "candidates": [{"class": c, "lat": lat, "lon": lon, "sightings": n} for c, lat, lon, n in self.candidates],
            "staying_vendors": self.staying,
            "sightings": self.sightings,
            "drop_reasons": self.drop_reasons,
            "exactly_the_stall": self.exactly_the_stall,
        }


def evaluate_fixed(folder: Path, detector_for: DetectorFor, *, workdir: Path, fps: float = 2.0) -> FixedReport:
    """Scans a generated fixed-camera clip; its first frame is the camera's reference image.

    Args:
        folder: Output of ``xiuhua synth fixed`` (``truth.json``, ``clip.mp4``).
        detector_for: Gives the detector for the clip.
        workdir: Where the database and evidence go (created).
        fps: Sampling rate of the scan.
    """
    truth = json.loads((folder / "truth.json").read_text())
    video = folder / str(truth["video"])
    camera = truth["camera"]
    workdir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{workdir / 'evaluate.db'}")
    init_db(engine)
    services = RecordingServices.open(engine, evidence=EvidenceStore(workdir / "evidence"))
    detector = detector_for(video)
    names = detector_names(detector)
    start = datetime(2024, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 in Beijing; the clip has no clock of its own
    with open_source(str(video), sampling=Sampling.parse("all")) as frames:
        reference = replace(next(iter(frames)), wall_time=start)
    with open_source(str(video), sampling=Sampling.parse(f"{fps:g}fps")) as frames:
        run = run_source(
            frames,
            detector=detector,
            settings=tracking_settings("fixed", detector, fps),
            services=services,
            locator=CameraPositionLocator(GeoPoint(float(camera["lat"]), float(camera["lon"]))),
            context=SourceContext(
                str(video), start, camera_key="fixed-1", camera_kind="fixed", camera_name="pole camera"
            ),
            baseline=reference_baseline(detector, reference, names),
        )
    with services.sessions() as session:
        rows = [(c.class_name, c.lat, c.lon, c.sightings_count) for c in session.scalars(select(Candidate))]
    engine.dispose()
    dwell = services.rules.settings.persistence_of("vendor_stall").fixed_dwell_seconds
    # The generator writes no stationary time (None) for a vendor who never leaves: it stays past any threshold.
    staying = sum(1 for vendor in truth["vendors"] if _stationary_s(vendor) >= dwell)
    counts = run.counts
    return FixedReport(tuple(rows), staying, counts.sightings, dict(counts.drop_reasons))


def _stationary_s(vendor: dict[str, Any]) -> float:
    value = vendor.get("stationary_s")
    return math.inf if value is None else float(value)
