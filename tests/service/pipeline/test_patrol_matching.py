"""Scoring patrol candidates: a candidate near a violation finds it; found_shown asks that it also shows it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from factories.tracking import make_frame

from service.db.models import Candidate
from service.pipeline.evaluate import load_truth_boxes, match_candidates, shown_object
from vision.frame import GeoPoint
from vision.geo import offset
from vision.sighting import Sighting

ORIGIN = GeoPoint(31.2, 121.4)


def violation(object_id: int, east_m: float, class_name: str = "signboard") -> dict[str, object]:
    point = offset(ORIGIN, 90.0, east_m)
    return {"object_id": object_id, "class": class_name, "lat": point.lat, "lon": point.lon}


def candidate(candidate_id: int, east_m: float, violation_type: str = "illegal_advertising") -> Candidate:
    point = offset(ORIGIN, 90.0, east_m)
    return Candidate(
        id=candidate_id, violation_type=violation_type, class_name="signboard", lat=point.lat, lon=point.lon
    )


def test_a_candidate_of_one_sign_finds_the_unseen_sign_next_door_by_position_only() -> None:
    # Two signs 4 m apart; sign 2 was never seen, but a duplicate candidate of sign 1 lies 3 m from it.
    violations = [violation(1, 0.0), violation(2, 4.0)]
    candidates = [candidate(10, 0.5), candidate(11, 1.0)]
    report = match_candidates(violations, candidates, shown={10: {1}, 11: {1}})
    assert report.found == 2
    assert report.found_shown == 1
    assert report.per_class["signboard"] == {"violations": 2, "found": 2, "found_shown": 1}
    assert report.as_dict()["found_shown_fraction"] == 0.5


def test_a_candidate_that_shows_a_violation_still_has_to_be_near_it() -> None:
    report = match_candidates([violation(1, 0.0)], [candidate(10, 20.0)], shown={10: {1}})
    assert (report.found, report.found_shown) == (0, 0)


def test_one_candidate_showing_two_violations_finds_one_of_them() -> None:
    report = match_candidates([violation(1, 0.0), violation(2, 4.0)], [candidate(10, 2.0)], shown={10: {1, 2}})
    assert (report.found, report.found_shown) == (1, 1)


def test_without_knowing_what_candidates_show_found_shown_is_unknown() -> None:
    report = match_candidates([violation(1, 0.0)], [candidate(10, 1.0)])
    assert report.found == 1 and report.found_shown is None
    assert report.as_dict()["found_shown_fraction"] is None
    assert "found_shown" not in report.per_class["signboard"]


def sighting_at(index: int, box: tuple[float, float, float, float]) -> Sighting:
    frame = make_frame(index)
    return Sighting(frame.source_id, 1, 6, "signboard", 0.0, 1.0, 3, 0.5, frame, np.asarray(box, np.float32))


@pytest.fixture
def truth_boxes(tmp_path: Path) -> Path:
    lines = [
        {"frame": 0, "t": 0.0, "boxes": [[10, 10, 50, 30], [52, 10, 92, 30]], "class_id": [6, 6], "object_id": [7, 8]},
        {"frame": 1, "t": 0.2, "boxes": [], "class_id": [], "object_id": []},
    ]
    path = tmp_path / "pass_1_frames.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_a_sighting_shows_the_true_object_its_best_box_overlaps(truth_boxes: Path) -> None:
    truth = load_truth_boxes(truth_boxes)
    assert shown_object(truth, sighting_at(0, (54, 11, 90, 31))) == 8
    assert shown_object(truth, sighting_at(0, (30, 10, 70, 30))) is None  # half on each sign: IoU 1/3 with both
    assert shown_object(truth, sighting_at(1, (54, 11, 90, 31))) is None  # nothing true in that frame
    assert shown_object(truth, sighting_at(5, (54, 11, 90, 31))) is None  # a frame the file does not list


def test_a_malformed_truth_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "pass_1_frames.jsonl"
    path.write_text('{"frame": 0, "boxes": [], "class_id": [], "object_id": []}\n{"frame": 1}\n')
    with pytest.raises(ValueError, match=r"pass_1_frames.jsonl:2"):
        load_truth_boxes(path)
