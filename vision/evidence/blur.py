"""Blurring faces and people in evidence that leaves the department.

Faces are found by a :class:`FaceDetector`: by default OpenCV's bundled Haar cascade (``cv2.CascadeClassifier`` and
``cv2.data.haarcascades``, which OpenCV 5 dropped; xiuhua pins ``opencv-python<5`` so they are there out of the box),
or OpenCV's YuNet (``cv2.FaceDetectorYN``) with a model file the department provides (``BlurSettings.face_model``).
Nothing is downloaded. When faces are asked for and the chosen detector cannot be built (an OpenCV 5 installed by
hand, a missing or broken model file), building the blurrer fails loudly: evidence must not leave with faces silently
unblurred.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt

from vision.errors import ModelError
from vision.evidence.style import check_image

Image = npt.NDArray[np.uint8]
Boxes = npt.NDArray[np.float32]
HAAR_FRONTAL_FACE = "haarcascade_frontalface_default.xml"


@dataclass(frozen=True)
class BlurSettings:
    """What to blur and how hard.

    Attributes:
        faces: Detect faces and blur them; ``False`` blurs only the boxes passed in.
        face_model: A YuNet face model (``face_detection_yunet_*.onnx``) for ``cv2.FaceDetectorYN``; ``None`` uses
            OpenCV's bundled Haar cascade.
        min_face_px: Smallest face searched for, in frame pixels.
        face_score: YuNet's score threshold.
        haar_scale_factor: Haar pyramid step.
        haar_min_neighbors: Haar detections that must agree; higher finds fewer, surer faces.
        detect_max_side: Frames are shrunk to this longer side for face detection (boxes are mapped back).
        padding: Each blurred box grows by this fraction of its size per side (hair, ears, a moving head).
        cells: A blurred area keeps at most this many colour cells across its longer side: unreadable, not smudged.
    """

    faces: bool = True
    face_model: Path | None = None
    min_face_px: int = 16
    face_score: float = 0.6
    haar_scale_factor: float = 1.1
    haar_min_neighbors: int = 5
    detect_max_side: int = 1280
    padding: float = 0.15
    cells: int = 8

    def __post_init__(self) -> None:
        if self.min_face_px < 1 or self.detect_max_side < 32:
            raise ValueError("BlurSettings.min_face_px must be >= 1 and detect_max_side >= 32")
        if self.padding < 0 or self.cells < 1:
            raise ValueError("BlurSettings.padding must be >= 0 and cells >= 1")
        if self.haar_scale_factor <= 1:
            raise ValueError(f"BlurSettings.haar_scale_factor must be > 1, got {self.haar_scale_factor}")


class FaceDetector(Protocol):
    """Finds faces: ``detect(image) -> (N, 4) float32 x1, y1, x2, y2`` in the image's pixels."""

    def detect(self, image: Image) -> Boxes:
        """Return the faces in a BGR image."""
        ...


@dataclass(frozen=True, eq=False)
class BlurResult:
    """A blurred image and what was blurred.

    Attributes:
        image: The blurred copy.
        face_boxes: ``(N, 4)`` faces found, ``x1, y1, x2, y2`` before padding.
        blurred_boxes: ``(M, 4)`` areas actually blurred (faces and given boxes, padded, clipped to the image).
    """

    image: Image
    face_boxes: Boxes
    blurred_boxes: Boxes


class HaarFaceDetector:
    """Frontal faces with OpenCV's bundled Haar cascade (needs an OpenCV that still ships it)."""

    def __init__(self, settings: BlurSettings | None = None) -> None:
        """Load the cascade.

        Raises:
            ModelError: This OpenCV has no ``CascadeClassifier`` or no bundled cascade files.
        """
        self.settings = settings or BlurSettings()
        classifier = getattr(cv2, "CascadeClassifier", None)
        folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
        path = Path(folder or "") / HAAR_FRONTAL_FACE
        if classifier is None or folder is None or not path.is_file():
            raise ModelError(
                HAAR_FRONTAL_FACE,
                f"OpenCV {cv2.__version__} has no Haar cascades (CascadeClassifier was removed in OpenCV 5); set "
                "BlurSettings.face_model to a YuNet face model, or faces=False to blur only given boxes",
            )
        self._cascade = classifier(str(path))
        if self._cascade.empty():
            raise ModelError(str(path), "OpenCV could not load the cascade")

    def detect(self, image: Image) -> Boxes:
        """Return ``(N, 4)`` float32 face boxes in the image's pixels."""
        small, factor = _shrunk(image, self.settings.detect_max_side)
        grey = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY))
        side = max(1, round(self.settings.min_face_px * factor))
        found = self._cascade.detectMultiScale(
            grey,
            scaleFactor=self.settings.haar_scale_factor,
            minNeighbors=self.settings.haar_min_neighbors,
            minSize=(side, side),
        )
        return _xywh_to_xyxy(np.asarray(found, np.float32).reshape(-1, 4)) / factor


class YuNetFaceDetector:
    """Faces with OpenCV's YuNet detector and a model file the department provides."""

    def __init__(self, model: Path, settings: BlurSettings | None = None) -> None:
        """Load the model.

        Raises:
            ModelError: The file is missing or OpenCV cannot load it.
        """
        self.settings = settings or BlurSettings()
        if not Path(model).is_file():
            raise ModelError(str(model), "face model file not found")
        try:
            self._detector = cv2.FaceDetectorYN.create(str(model), "", (320, 320), self.settings.face_score)
        except cv2.error as error:
            raise ModelError(str(model), f"OpenCV cannot load it as a YuNet face model: {error}") from error

    def detect(self, image: Image) -> Boxes:
        """Return ``(N, 4)`` float32 face boxes in the image's pixels."""
        small, factor = _shrunk(image, self.settings.detect_max_side)
        self._detector.setInputSize((small.shape[1], small.shape[0]))
        _, faces = self._detector.detect(small)
        if faces is None:
            return np.zeros((0, 4), np.float32)
        boxes = _xywh_to_xyxy(np.asarray(faces, np.float32)[:, :4]) / factor
        sides = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
        return boxes[sides >= self.settings.min_face_px]


def load_face_detector(settings: BlurSettings) -> FaceDetector:
    """YuNet when ``settings.face_model`` is set, else the Haar cascade.

    Raises:
        ModelError: The chosen detector is not available (see :class:`HaarFaceDetector`, :class:`YuNetFaceDetector`).
    """
    if settings.face_model is not None:
        return YuNetFaceDetector(settings.face_model, settings)
    return HaarFaceDetector(settings)


class FaceBlurrer:
    """Blurs faces (found by a detector) and given boxes (people, number plates) beyond recognition."""

    def __init__(self, settings: BlurSettings | None = None, detector: FaceDetector | None = None) -> None:
        """Keep the settings and the face detector.

        Args:
            settings: What to blur; ``None`` uses the defaults (faces on).
            detector: Finds faces; ``None`` loads one with :func:`load_face_detector` when ``settings.faces``.

        Raises:
            ModelError: Faces are asked for and no face detector is available.
        """
        self.settings = settings or BlurSettings()
        if detector is None and self.settings.faces:
            detector = load_face_detector(self.settings)
        self.detector = detector if self.settings.faces else None

    def blur(self, image: Image, person_boxes: npt.ArrayLike | None = None) -> BlurResult:
        """Return a copy of ``image`` with faces and ``person_boxes`` blurred; nothing else changes.

        Args:
            image: ``(H, W, 3)`` uint8 BGR image (not modified).
            person_boxes: ``(M, 4)`` boxes ``x1, y1, x2, y2`` to blur whole, e.g. detected people.

        Raises:
            ValueError: The image is not BGR uint8 or the boxes are not ``(M, 4)`` finite numbers.
        """
        check_image(image, "image to blur")
        faces = self.detector.detect(image) if self.detector is not None else np.zeros((0, 4), np.float32)
        given = np.zeros((0, 4), np.float32) if person_boxes is None else np.asarray(person_boxes, np.float32)
        if given.ndim != 2 or given.shape[1] != 4 or not np.all(np.isfinite(given)):
            raise ValueError(f"person_boxes must be (M, 4) finite x1, y1, x2, y2, got shape {given.shape}")
        canvas = image.copy()
        areas = [self._blur_area(canvas, box) for box in np.vstack([faces, given])]
        blurred = np.asarray([area for area in areas if area is not None], np.float32).reshape(-1, 4)
        return BlurResult(canvas, np.asarray(faces, np.float32).reshape(-1, 4), blurred)

    def _blur_area(self, canvas: Image, box: npt.NDArray[np.float32]) -> tuple[int, int, int, int] | None:
        """Reduce the padded box to a few smooth colour cells, in place; ``None`` when it lies outside the image."""
        pad_x = (box[2] - box[0]) * self.settings.padding
        pad_y = (box[3] - box[1]) * self.settings.padding
        height, width = canvas.shape[:2]
        x1, y1 = max(0, int(np.floor(box[0] - pad_x))), max(0, int(np.floor(box[1] - pad_y)))
        x2, y2 = min(width, int(np.ceil(box[2] + pad_x))), min(height, int(np.ceil(box[3] + pad_y)))
        if x2 <= x1 or y2 <= y1:
            return None
        area = canvas[y1:y2, x1:x2]
        step = max(1.0, max(area.shape[:2]) / self.settings.cells)
        cells = (max(1, round(area.shape[1] / step)), max(1, round(area.shape[0] / step)))
        # Averaging down to a few cells destroys the detail; smooth upsampling hides the blocks without restoring it.
        coarse = cv2.resize(area, cells, interpolation=cv2.INTER_AREA)
        canvas[y1:y2, x1:x2] = cv2.resize(coarse, (area.shape[1], area.shape[0]), interpolation=cv2.INTER_LINEAR)
        return x1, y1, x2, y2


def _shrunk(image: Image, max_side: int) -> tuple[Image, float]:
    factor = min(1.0, max_side / max(image.shape[:2]))
    if factor == 1.0:
        return image, 1.0
    size = (max(1, round(image.shape[1] * factor)), max(1, round(image.shape[0] * factor)))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8), factor


def _xywh_to_xyxy(boxes: npt.NDArray[np.float32]) -> Boxes:
    out = boxes.copy()
    out[:, 2:] += out[:, :2]
    return out
