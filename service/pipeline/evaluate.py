"""How well the whole chain turns clips into candidates, measured on generated clips with ground truth.

Patrol: several passes of one street on different days (``xiuhua synth patrol``). Each pass is scanned like a real
patrol video (its GPX track, its camera mount), into one fresh database; the candidates left at the end are matched
one-to-one to the street's real violations of the same violation type within ``match_radius_m`` (15 m, the issue's
bar for positions). Reported: the share of real violations found, candidates per real violation found (every
unmatched candidate counts as a duplicate), and the position errors of the matches.

Fixed camera: one clip (``xiuhua synth fixed``) with a vendor who stays for minutes, one who stops briefly and
passers-by; the first frame is the camera's reference (what was there before). Reported: the candidates and
whether exactly one — the staying stall — came out.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
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
from vision.frame import GeoPoint
from vision.geo import PatrolSettings, distance_m
from vision.sources import Sampling, open_source
from vision.taxonomy import load_taxonomy

DetectorFor = Callable[[Path], FrameDetector]  # video path → detector (a model, or that clip's ground truth)


@dataclass(frozen=True)
class MatchReport:
    """Candidates matched to real violations.

    Attributes:
        violations: Real violations (seen in at least one pass).
        candidates: Candidates of violation types at the end of the run.
        found: Real violations with a candidate within the match radius.
        errors_m: Distance from each matched candidate to its violation.
        per_class: ``{class: {"violations", "found"}}``.
    """

    violations: int
    candidates: int
    found: int
    errors_m: tuple[float, ...]
    per_class: dict[str, dict[str, int]] = field(default_factory=dict)

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
        }


def match_candidates(
    violations: list[dict[str, Any]], candidates: list[Candidate], match_radius_m: float = 15.0
) -> MatchReport:
    """One-to-one matching of candidates to violations of the same violation type, nearest first."""
    taxonomy = load_taxonomy()
    errors: list[float] = []
    found_ids: set[int] = set()
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
        rows, cols = linear_sum_assignment(np.where(cost <= match_radius_m, cost, 1e6))
        for row, col in zip(rows, cols, strict=True):
            if cost[row, col] <= match_radius_m:
                errors.append(float(cost[row, col]))
                found_ids.add(int(truths[row]["object_id"]))
    per_class: dict[str, dict[str, int]] = {}
    for violation in violations:
        entry = per_class.setdefault(str(violation["class"]), {"violations": 0, "found": 0})
        entry["violations"] += 1
        entry["found"] += int(int(violation["object_id"]) in found_ids)
    return MatchReport(len(violations), len(candidates), len(found_ids), tuple(errors), per_class)


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
    for info in truth["passes"]:
        video = folder / str(info["video"])
        detector = detector_for(video)
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
            )
    with services.sessions() as session:
        candidates = list(session.scalars(select(Candidate)))
    engine.dispose()
    return match_candidates(list(truth["violations"]), candidates)


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
