"""The protocol every detector backend implements, and what it knows about its model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from vision.detections import Detections


@dataclass(frozen=True)
class ModelInfo:
    """What a loaded model detects and how it wants its input.

    Attributes:
        path: The model file or folder it was loaded from.
        runtime: ``"ultralytics"``, ``"onnxruntime"`` or ``"openvino"``.
        names: Class names, indexed by class id.
        imgsz: Network input size as ``(height, width)``.
        default_conf: Score threshold recommended by the model card.
    """

    path: Path
    runtime: str
    names: tuple[str, ...]
    imgsz: tuple[int, int]
    default_conf: float = 0.25


@runtime_checkable
class Detector(Protocol):
    """Finds objects in BGR images. Backends convert their own raw output to Detections."""

    info: ModelInfo

    def detect(self, images: Sequence[npt.NDArray[np.uint8]], conf: float | None = None) -> list[Detections]:
        """Detect objects in a batch of ``(H, W, 3)`` uint8 BGR images of any size.

        Args:
            images: The batch; images may differ in size.
            conf: Score threshold; ``None`` uses ``info.default_conf``.

        Returns:
            One Detections per image, boxes in that image's pixels.
        """
        ...
