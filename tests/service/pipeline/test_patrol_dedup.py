"""Patrol passes of one street on different days: one candidate per real violation, found and placed.

A small generated clip (two passes, days apart) is scanned with its ground-truth boxes, so what is measured is
tracking, location and de-duplication, not a detector. At 480x270 some seeds lose tiny posters stuck together on
one pole before de-duplication (the tracker sees them as one); seed 10 does not, so the found share here is
de-duplication's. Matched by violation type within 50 m instead, neighbouring adverts merge into one (found 35 %);
with a 24 h window on open candidates, the second pass would open every violation again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from service.pipeline.evaluate import MatchReport, evaluate_patrol
from vision.synth.patrol import write_patrol
from vision.synth.truth import TruthDetector

SEED = 10


def _truth_for(video: Path) -> TruthDetector:
    return TruthDetector.load(video.with_name(f"{video.stem}_frames.jsonl"))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> MatchReport:
    folder = tmp_path_factory.mktemp("patrol")
    write_patrol(folder / "clip", SEED, passes=2, fps=5, size=(480, 270))
    return evaluate_patrol(folder / "clip", _truth_for, workdir=folder / "work", fps=5.0)


def test_real_violations_are_found(report: MatchReport) -> None:
    assert report.violations > 30
    assert report.found_fraction >= 0.85, report.as_dict()


def test_one_candidate_per_violation_across_days(report: MatchReport) -> None:
    assert report.candidates_per_violation <= 1.1, report.as_dict()


def test_positions_are_close(report: MatchReport) -> None:
    summary = report.as_dict()
    # Triangulated along the drive (PatrolLocator.triangulate): 0.28 m here; placed from single frames at the
    # assumed building line, facade objects were ~2-3 m off.
    assert summary["median_error_m"] < 1.0, summary


def test_with_true_boxes_the_candidates_found_show_their_violations(report: MatchReport) -> None:
    # A perfect detector's candidates are built from the violations' own boxes: what is found by position is shown,
    # but for a few tiny posters stuck together on one pole (tracked as one): 64 of the 65 found here. The clip is
    # the same bytes in every run (vision.synth.video.Mp4Writer), so this count no longer wanders (it flipped
    # between 63 and 64 while the encoder was not deterministic).
    assert report.found_shown is not None
    assert report.found_shown >= 0.95 * report.found, report.as_dict()
    assert report.found_shown <= report.found, "shown is a stricter match than position"
