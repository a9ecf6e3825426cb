"""Export of reviewed items as a YOLO dataset: confirmed → labels, false detections → empty label files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from factories.review import NOW, add_sighting, make_candidates, make_user
from PIL import Image
from sqlalchemy.orm import Session

from service.errors import Invalid
from service.review import confirm, reject, relabel
from service.review.export import export_yolo


def write_frame(folder: Path, name: str, size: tuple[int, int] = (200, 100)) -> str:
    pixels = np.random.default_rng(len(name)).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(folder / name)
    return name


def test_export_writes_labels_for_confirmed_and_empty_files_for_false_detections(
    session: Session, tmp_path: Path
) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    alice = make_user(session, "alice")
    stall, banner, wrong, legal, lost = make_candidates(session, 5)
    add_sighting(
        session, stall, track_key="a", box=(20, 10, 60, 50), frame_path=write_frame(evidence, "a.png"), kind="source"
    )
    add_sighting(session, stall, track_key="a-drawn", frame_path="a-annotated.jpg", kind="frame")  # never exported
    add_sighting(session, banner, track_key="b", box=(0, 0, 400, 20), frame_path="a.png", kind="source")
    add_sighting(session, wrong, track_key="c", frame_path=write_frame(evidence, "c.png"), kind="source")
    add_sighting(session, legal, track_key="d", frame_path=write_frame(evidence, "d.png"), kind="source")
    add_sighting(session, lost, track_key="e", frame_path="gone.png", kind="source")
    relabel(session, candidate_id=banner.id, user_id=alice.id, class_name="banner", now=NOW)
    for candidate in (stall, banner, lost):
        confirm(session, candidate_id=candidate.id, user_id=alice.id, now=NOW)
    reject(session, candidate_id=wrong.id, user_id=alice.id, reason="false_detection", now=NOW)
    reject(session, candidate_id=legal.id, user_id=alice.id, reason="permitted", now=NOW)
    session.commit()

    out = tmp_path / "dataset"
    summary = export_yolo(session, evidence_dir=evidence, out_dir=out, val_fraction=0.0)

    assert (summary.images, summary.labelled, summary.negatives, summary.boxes) == (2, 1, 1, 2)
    assert summary.candidates == 3
    assert [(s.candidate_id, s.path) for s in summary.skipped] == [(lost.id, "gone.png")]
    labels = {path.name: path.read_text() for path in (out / "labels" / "train").iterdir()}
    shared = next(text for text in labels.values() if text)
    assert sorted(shared.splitlines()) == [
        "0 0.200000 0.300000 0.200000 0.400000",
        "3 0.500000 0.100000 1.000000 0.200000",
    ]
    assert sorted(labels.values()) == ["", shared]
    assert len(list((out / "images" / "train").iterdir())) == 2
    data = yaml.safe_load((out / "data.yaml").read_text())
    assert data["names"][3] == "banner" and data["train"] == data["val"] == "images/train"
    manifest = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert sorted(c["candidate_id"] for entry in manifest for c in entry["candidates"]) == sorted(
        [stall.id, banner.id, wrong.id]
    )

    with pytest.raises(Invalid, match="not an empty folder"):
        export_yolo(session, evidence_dir=evidence, out_dir=out)


def test_export_refuses_paths_outside_the_evidence_folder(session: Session, tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    write_frame(tmp_path, "secret.png")
    alice = make_user(session, "alice")
    (item,) = make_candidates(session, 1)
    add_sighting(session, item, track_key="x", frame_path="../secret.png", kind="source")
    confirm(session, candidate_id=item.id, user_id=alice.id, now=NOW)

    summary = export_yolo(session, evidence_dir=evidence, out_dir=tmp_path / "out")

    assert summary.images == 0 and summary.skipped[0].reason == "the path leaves the evidence folder"
