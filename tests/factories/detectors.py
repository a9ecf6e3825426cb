"""A fake detector so most tests need no weights."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from vision.detect.base import ModelInfo
from vision.detections import Detections

FAKE_NAMES = ("vendor_stall", "banner", "signboard")


class BrightnessDetector:
    """Finds one 'vendor_stall' covering the image centre when the image's mean is above a level.

    Its confidence is the mean brightness / 255, so tests can steer it with flat-colour frames.
    """

    def __init__(self, level: float = 100.0, default_conf: float = 0.25) -> None:
        self.level = level
        self.info = ModelInfo(
            path=Path("fake"), runtime="fake", names=FAKE_NAMES, imgsz=(64, 64), default_conf=default_conf
        )
        self.calls: list[int] = []

    def detect(self, images: Sequence[npt.NDArray[np.uint8]], conf: float | None = None) -> list[Detections]:
        threshold = self.info.default_conf if conf is None else conf
        self.calls.append(len(images))
        results = []
        for image in images:
            mean = float(image.mean())
            height, width = image.shape[:2]
            if mean < self.level or mean / 255 < threshold:
                results.append(Detections.empty())
                continue
            box = np.array([[width * 0.25, height * 0.25, width * 0.75, height * 0.75]], np.float32)
            results.append(
                Detections(xyxy=box, confidence=np.array([mean / 255], np.float32), class_id=np.zeros(1, np.int64))
            )
        return results
