"""Frames and detections for tracking tests: textured pictures, boxes that move, a camera that pans."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from vision.detections import Detections
from vision.frame import Frame

SOURCE = "clip.mp4"
FPS = 2.0

Image = npt.NDArray[np.uint8]


def make_detections(
    boxes: Sequence[Sequence[float]],
    confidence: npt.ArrayLike = 0.9,
    class_id: npt.ArrayLike = 0,
    track_id: Sequence[int] | None = None,
) -> Detections:
    """Detections from a list of ``x1, y1, x2, y2`` boxes; a scalar confidence or class applies to every row."""
    xyxy = np.asarray(boxes, np.float32).reshape(-1, 4)
    count = len(xyxy)
    return Detections(
        xyxy=xyxy,
        confidence=np.broadcast_to(np.asarray(confidence, np.float32), (count,)).copy(),
        class_id=np.broadcast_to(np.asarray(class_id, np.int64), (count,)).copy(),
        track_id=None if track_id is None else np.asarray(track_id, np.int64),
    )


def textured_image(height: int, width: int, seed: int = 0) -> Image:
    """A picture full of sharp detail (random blocks of grey), so crops have corners and a high Laplacian."""
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, 256, (max(height // 4, 1), max(width // 4, 1)), dtype=np.uint8)
    grey = cv2.resize(cells, (width, height), interpolation=cv2.INTER_NEAREST)
    return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))


def blurred(image: Image, sigma: float = 4.0) -> Image:
    """The image under a Gaussian blur (a shaky or out-of-focus view)."""
    return np.ascontiguousarray(cv2.GaussianBlur(image, (0, 0), sigma))


def make_frame(
    index: int,
    timestamp: float | None = None,
    *,
    image: Image | None = None,
    source: str = SOURCE,
    size: tuple[int, int] = (120, 160),
) -> Frame:
    """Frame ``index`` of a source sampled at `FPS` (timestamp ``index / FPS`` unless given); flat grey by default."""
    pixels = np.full((*size, 3), 128, np.uint8) if image is None else image
    return Frame(image=pixels, source_id=source, index=index, timestamp=index / FPS if timestamp is None else timestamp)


def moving_box(start: Sequence[float], velocity: Sequence[float], step: int) -> list[float]:
    """The box ``start`` moved ``step`` times by ``velocity`` (``dx, dy`` pixels per frame)."""
    x1, y1, x2, y2 = start
    dx, dy = velocity
    return [x1 + dx * step, y1 + dy * step, x2 + dx * step, y2 + dy * step]


def panning_frames(
    count: int, *, shift_px: int, size: tuple[int, int] = (360, 640), seed: int = 0
) -> tuple[list[Frame], list[int]]:
    """A camera panning along a textured wall: frame ``k`` shows the wall from ``k * shift_px`` on.

    Returns:
        The frames, and each frame's offset into the wall (a point at wall x ``X`` is at frame x ``X - offset``).
    """
    height, width = size
    wall = textured_image(height, width + shift_px * count, seed)
    offsets = [k * shift_px for k in range(count)]
    frames = [
        make_frame(k, image=np.ascontiguousarray(wall[:, offset : offset + width])) for k, offset in enumerate(offsets)
    ]
    return frames, offsets
