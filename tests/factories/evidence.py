"""Sightings with textured frames, for evidence tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import numpy.typing as npt

from vision.frame import Frame, GeoPoint
from vision.sighting import Sighting

BEIJING = timezone(timedelta(hours=8))
TAKEN_AT = datetime(2024, 6, 11, 14, 3, 22, tzinfo=BEIJING)
STALL_LOCATION = GeoPoint(31.230416, 121.473701, accuracy_m=8.2)


def textured_image(height: int = 480, width: int = 640, seed: int = 0) -> npt.NDArray[np.uint8]:
    """Smooth colour gradients plus fine noise: every pixel differs, and blurring visibly removes detail."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([xs / width * 200, ys / height * 200, (xs + ys) / (width + height) * 200], axis=2)
    noise = rng.integers(0, 55, size=(height, width, 3))
    return np.asarray(base + noise, np.uint8)


def make_sighting(
    *,
    image: npt.NDArray[np.uint8] | None = None,
    box: tuple[float, float, float, float] = (200, 150, 360, 330),
    class_name: str = "vendor_stall",
    class_id: int = 0,
    score: float = 0.873,
    wall_time: datetime | None = TAKEN_AT,
    location: GeoPoint | None = STALL_LOCATION,
    source_id: str = "videos/patrol-2024-06-11.mp4",
    timestamp: float = 12.34,
) -> Sighting:
    """A sighting whose best frame is ``image`` (a textured 640x480 by default) with ``box`` as its best box."""
    frame = Frame(
        image=textured_image() if image is None else image,
        source_id=source_id,
        index=308,
        timestamp=timestamp,
        wall_time=wall_time,
    )
    return Sighting(
        source_id=source_id,
        track_id=17,
        class_id=class_id,
        class_name=class_name,
        first_time=timestamp - 30.0,
        last_time=timestamp + 5.0,
        frames_seen=40,
        score=score,
        best_frame=frame,
        best_box=np.asarray(box, np.float32),
        location=location,
    )
