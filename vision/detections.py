"""The one columnar type every detector, tracker and filter speaks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Detections:
    """N detections of one frame, stored column-wise.

    Attributes:
        xyxy: ``(N, 4)`` float32 boxes in pixels, ``x1, y1, x2, y2`` (x first).
        confidence: ``(N,)`` float32 scores in ``[0, 1]``.
        class_id: ``(N,)`` int64 class indices into the model's class names.
        track_id: ``(N,)`` int64 tracker ids, or ``None`` before tracking.
    """

    xyxy: FloatArray
    confidence: FloatArray
    class_id: IntArray
    track_id: IntArray | None = None

    def __post_init__(self) -> None:
        xyxy = np.asarray(self.xyxy, dtype=np.float32).reshape(-1, 4)
        n = len(xyxy)
        confidence = np.asarray(self.confidence, dtype=np.float32).reshape(-1)
        class_id = np.asarray(self.class_id, dtype=np.int64).reshape(-1)
        if len(confidence) != n or len(class_id) != n:
            raise ValueError(
                f"Detections columns disagree in length: xyxy {n}, confidence {len(confidence)}, "
                f"class_id {len(class_id)}"
            )
        track_id = None
        if self.track_id is not None:
            track_id = np.asarray(self.track_id, dtype=np.int64).reshape(-1)
            if len(track_id) != n:
                raise ValueError(f"Detections track_id has length {len(track_id)}, expected {n}")
        if n and not np.all(np.isfinite(xyxy)):
            raise ValueError("Detections xyxy contains NaN or infinite coordinates")
        if n and np.any((xyxy[:, 2] < xyxy[:, 0]) | (xyxy[:, 3] < xyxy[:, 1])):
            raise ValueError("Detections xyxy must have x2 >= x1 and y2 >= y1")
        object.__setattr__(self, "xyxy", xyxy)
        object.__setattr__(self, "confidence", confidence)
        object.__setattr__(self, "class_id", class_id)
        object.__setattr__(self, "track_id", track_id)

    @classmethod
    def empty(cls) -> Detections:
        """Return a Detections with no rows."""
        return cls(
            xyxy=np.zeros((0, 4), np.float32),
            confidence=np.zeros(0, np.float32),
            class_id=np.zeros(0, np.int64),
        )

    @classmethod
    def merge(cls, parts: Iterable[Detections]) -> Detections:
        """Concatenate several Detections; track ids are kept only if every part has them."""
        items = list(parts)
        if not items:
            return cls.empty()
        tracks = [d.track_id for d in items]
        return cls(
            xyxy=np.concatenate([d.xyxy for d in items]),
            confidence=np.concatenate([d.confidence for d in items]),
            class_id=np.concatenate([d.class_id for d in items]),
            track_id=None if any(t is None for t in tracks) else np.concatenate(tracks),  # type: ignore[arg-type]
        )

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: Any) -> Detections:
        """Select rows by boolean mask, integer array, slice or single integer."""
        if isinstance(index, int | np.integer):
            index = [int(index)]
        return Detections(
            xyxy=self.xyxy[index],
            confidence=self.confidence[index],
            class_id=self.class_id[index],
            track_id=None if self.track_id is None else self.track_id[index],
        )

    @property
    def area(self) -> FloatArray:
        """Box areas in square pixels."""
        return (self.xyxy[:, 2] - self.xyxy[:, 0]) * (self.xyxy[:, 3] - self.xyxy[:, 1])

    def with_tracks(self, track_id: Sequence[int] | IntArray) -> Detections:
        """Return a copy carrying the given track ids."""
        return Detections(self.xyxy, self.confidence, self.class_id, np.asarray(track_id, np.int64))


def box_iou(a: FloatArray, b: FloatArray) -> FloatArray:
    """Pairwise IoU of two box arrays ``(N, 4)`` and ``(M, 4)`` in xyxy; returns ``(N, M)``."""
    a = np.asarray(a, np.float32).reshape(-1, 4)
    b = np.asarray(b, np.float32).reshape(-1, 4)
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(bottom_right - top_left, 0, None).prod(axis=2)
    area_a = (a[:, 2:] - a[:, :2]).prod(axis=1)
    area_b = (b[:, 2:] - b[:, :2]).prod(axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0).astype(np.float32)
