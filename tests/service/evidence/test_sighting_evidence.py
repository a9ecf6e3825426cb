"""A sighting's evidence saved: annotated frame and crop, verified by hash, blurred when it leaves the department."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
from factories.evidence import TAKEN_AT, make_sighting

from service.evidence import EvidenceStore, save_sighting_evidence
from vision.errors import ModelError
from vision.evidence import BlurSettings, FaceBlurrer


@pytest.fixture(autouse=True)
def _english_captions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIUHUA_CJK_FONT", "none")


def _files(store: EvidenceStore) -> list[Path]:
    return sorted(path for path in store.root.rglob("*") if path.is_file()) if store.root.exists() else []


def test_frame_and_crop_are_stored_and_verified(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    stored = save_sighting_evidence(store, make_sighting(), camera_name="East gate")
    assert [item.kind for item in stored] == ["frame", "crop"]
    for item in stored:
        assert store.verify(item.relative_path, item.sha256)
        assert item.taken_at == TAKEN_AT
        assert item.relative_path.startswith("2024/06/11/060322-East-gate-t17-")
    frame = cv2.imread(str(store.resolve(stored[0].relative_path)))
    crop = cv2.imread(str(store.resolve(stored[1].relative_path)))
    assert frame is not None and frame.shape[1] == 640 and frame.shape[0] > 480
    assert crop is not None and min(crop.shape[:2]) == 320


def test_without_wall_time_the_evidence_is_dated_now(tmp_path: Path) -> None:
    before = datetime.now(UTC)
    stored = save_sighting_evidence(EvidenceStore(tmp_path), make_sighting(wall_time=None))
    assert all(before <= item.taken_at <= datetime.now(UTC) for item in stored)
    assert "patrol-2024-06-11-t17" in stored[0].relative_path  # no camera name: the source names the file


def test_blurred_evidence_differs_where_the_person_is(tmp_path: Path) -> None:
    sighting = make_sighting(box=(200, 150, 360, 330))
    plain_store, blurred_store = EvidenceStore(tmp_path / "plain"), EvidenceStore(tmp_path / "out")
    plain = save_sighting_evidence(plain_store, sighting)
    blurred = save_sighting_evidence(
        blurred_store, sighting, blur=BlurSettings(faces=False, padding=0.0), person_boxes=[[250, 200, 300, 260]]
    )
    plain_frame = np.asarray(cv2.imread(str(plain_store.resolve(plain[0].relative_path))), int)
    blurred_frame = np.asarray(cv2.imread(str(blurred_store.resolve(blurred[0].relative_path))), int)
    difference = np.abs(plain_frame - blurred_frame).mean(axis=2)
    assert difference[205:255, 255:295].mean() > 10 * max(difference[:150].mean(), 0.1)


def test_a_ready_blurrer_is_reused(tmp_path: Path) -> None:
    blurrer = FaceBlurrer(BlurSettings(faces=False))
    stored = save_sighting_evidence(EvidenceStore(tmp_path), make_sighting(), blur=blurrer, person_boxes=[[0, 0, 9, 9]])
    assert len(stored) == 2


def test_bad_box_writes_nothing(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "evidence")
    with pytest.raises(ValueError, match="outside"):
        save_sighting_evidence(store, make_sighting(box=(700, 10, 800, 90)))
    assert _files(store) == []


def test_person_boxes_without_blur_write_nothing(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "evidence")
    with pytest.raises(ValueError, match="blurrer"):
        save_sighting_evidence(store, make_sighting(), person_boxes=[[0, 0, 10, 10]])
    assert _files(store) == []


def test_face_blurring_without_a_face_detector_fails_before_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cv2.data, "haarcascades", str(tmp_path))  # an OpenCV without its cascade files
    store = EvidenceStore(tmp_path / "evidence")
    with pytest.raises(ModelError, match="face_model"):
        save_sighting_evidence(store, make_sighting(), blur=BlurSettings())
    assert _files(store) == []
