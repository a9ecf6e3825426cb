"""Blurring: only the given and detected areas change, beyond recognition; no face detector means a loud error."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from factories.evidence import textured_image

from vision.errors import ModelError
from vision.evidence import BlurSettings, FaceBlurrer, HaarFaceDetector, YuNetFaceDetector, load_face_detector

FACADE_PHOTO = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "facade-ads" / "images" / "img_96.jpg"
NO_FACES = BlurSettings(faces=False, padding=0.0)


class FixedFaces:
    """A face detector that always reports the same boxes."""

    def __init__(self, boxes: list[list[float]]) -> None:
        self.boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        self.calls = 0

    def detect(self, image: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        self.calls += 1
        return self.boxes


def _detail(image: npt.NDArray[np.uint8]) -> float:
    return float(np.abs(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.CV_32F)).mean())


def test_given_box_is_blurred_and_nothing_else() -> None:
    image = textured_image()
    result = FaceBlurrer(NO_FACES).blur(image, [[100, 50, 260, 330]])
    changed = np.any(result.image != image, axis=2)
    assert not changed[:50].any() and not changed[330:].any()
    assert not changed[:, :100].any() and not changed[:, 260:].any()
    assert changed[50:330, 100:260].mean() > 0.9
    assert _detail(result.image[60:320, 110:250]) < 0.1 * _detail(image[60:320, 110:250])  # fine detail is gone
    assert result.blurred_boxes.tolist() == [[100, 50, 260, 330]]
    assert result.face_boxes.shape == (0, 4)
    assert np.array_equal(image, textured_image())  # the input is untouched


def test_padding_grows_the_blurred_area() -> None:
    result = FaceBlurrer(BlurSettings(faces=False, padding=0.25)).blur(textured_image(), [[100, 100, 200, 140]])
    assert result.blurred_boxes.tolist() == [[75, 90, 225, 150]]


def test_detected_faces_are_blurred_with_the_given_boxes() -> None:
    image = textured_image()
    detector = FixedFaces([[400, 60, 460, 130]])
    result = FaceBlurrer(BlurSettings(padding=0.0), detector=detector).blur(image, [[10, 10, 60, 200]])
    assert detector.calls == 1
    assert result.face_boxes.tolist() == [[400, 60, 460, 130]]
    assert result.blurred_boxes.tolist() == [[400, 60, 460, 130], [10, 10, 60, 200]]
    changed = np.any(result.image != image, axis=2)
    assert changed[60:130, 400:460].mean() > 0.9
    assert not changed[200:, 100:].any()


def test_boxes_over_the_edge_are_clipped_and_boxes_outside_skipped() -> None:
    image = textured_image()
    result = FaceBlurrer(NO_FACES).blur(image, [[600, 440, 700, 520], [700, 10, 800, 90]])
    assert result.blurred_boxes.tolist() == [[600, 440, 640, 480]]
    assert np.any(result.image[440:, 600:] != image[440:, 600:])


def test_faces_off_needs_no_detector_and_ignores_one() -> None:
    detector = FixedFaces([[0, 0, 50, 50]])
    result = FaceBlurrer(NO_FACES, detector=detector).blur(textured_image())
    assert detector.calls == 0
    assert result.blurred_boxes.shape == (0, 4)
    assert np.array_equal(result.image, textured_image())


@pytest.mark.parametrize("boxes", [[[1, 2, 3]], [[0, 0, float("nan"), 5]], [1, 2, 3, 4]])
def test_malformed_person_boxes_are_refused(boxes: npt.ArrayLike) -> None:
    with pytest.raises(ValueError, match="person_boxes"):
        FaceBlurrer(NO_FACES).blur(textured_image(), boxes)


def test_the_default_face_detector_is_the_bundled_haar_cascade() -> None:
    # opencv-python is pinned below 5 for this: OpenCV 5 no longer ships CascadeClassifier or the cascades.
    assert isinstance(load_face_detector(BlurSettings()), HaarFaceDetector)
    assert FaceBlurrer(BlurSettings()).detector is not None


def test_without_haar_cascades_face_blurring_fails_loudly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cv2.data, "haarcascades", str(tmp_path))  # an OpenCV whose cascade files are gone
    with pytest.raises(ModelError, match="face_model"):
        FaceBlurrer(BlurSettings())
    monkeypatch.delattr(cv2, "CascadeClassifier", raising=False)  # as in OpenCV 5
    with pytest.raises(ModelError, match="CascadeClassifier"):
        load_face_detector(BlurSettings())


def test_haar_detector_returns_boxes_on_a_real_photo() -> None:
    if not FACADE_PHOTO.is_file():
        pytest.skip(f"no street photo at {FACADE_PHOTO}")
    image = np.asarray(cv2.imread(str(FACADE_PHOTO)), np.uint8)
    boxes = HaarFaceDetector().detect(image)
    assert boxes.dtype == np.float32 and boxes.ndim == 2 and boxes.shape[1] == 4
    assert np.all(boxes[:, 2] > boxes[:, 0]) and np.all(boxes[:, 3] <= image.shape[0] + 1)


def test_missing_yunet_model_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "face_detection_yunet.onnx"
    with pytest.raises(ModelError, match="face model file not found"):
        FaceBlurrer(BlurSettings(face_model=missing))


def test_unloadable_yunet_model_is_named(tmp_path: Path) -> None:
    garbage = tmp_path / "face.onnx"
    garbage.write_bytes(b"not an onnx model")
    with pytest.raises(ModelError, match=r"face\.onnx"):
        YuNetFaceDetector(garbage)


@pytest.mark.parametrize("settings", [{"cells": 0}, {"padding": -1}, {"haar_scale_factor": 1.0}, {"min_face_px": 0}])
def test_bad_blur_settings_are_refused(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="BlurSettings"):
        BlurSettings(**settings)  # type: ignore[arg-type]


def test_person_in_a_real_street_photo_is_blurred() -> None:
    if not FACADE_PHOTO.is_file():
        pytest.skip(f"no street photo at {FACADE_PHOTO}")
    photo = np.asarray(cv2.imread(str(FACADE_PHOTO)), np.uint8)
    person = [355, 345, 400, 475]  # the woman walking past the arcade in img_96.jpg
    result = FaceBlurrer(NO_FACES).blur(photo, [person])
    changed = np.any(result.image != photo, axis=2)
    assert not changed[:345].any() and not changed[:, :355].any() and not changed[:, 400:].any()
    assert _detail(result.image[345:475, 355:400]) < 0.2 * _detail(photo[345:475, 355:400])
