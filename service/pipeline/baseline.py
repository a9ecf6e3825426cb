"""What a fixed camera's reference image already shows: objects there before are not new violations.

A shop's signboard is in view every day; the city approved it long ago, or it is another department's business.
What a fixed camera should raise is what appeared since its reference image was taken (影像对比). The detector runs
once on the reference; a sighting of the same class in the same place (boxes overlapping) is explained by it.
Where the sighting is, is read from its best box and from its typical box (the median over its track): the best
view of a static object is often a frame where a passer-by in front stretched its box, while the typical box stays
where the object stands (``docs/tracking-confidences.md``, 2026-11-25 stage 9).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from vision.detections import Detections, box_iou
from vision.sighting import Sighting


@dataclass(frozen=True)
class Baseline:
    """Objects detected in a camera's reference image.

    Attributes:
        detections: The reference's detections, in the reference's pixels (the camera does not move).
        class_names: The detector's class names by class id.
        taken_at: When the reference was taken.
        min_iou: Overlap with a reference box of the same class above which a sighting is the same object.
    """

    detections: Detections
    class_names: tuple[str, ...]
    taken_at: datetime
    min_iou: float = 0.3

    def explains(self, sighting: Sighting) -> str | None:
        """Why the sighting is not new (a drop reason), or ``None`` when the reference does not show it."""
        same_class = np.array([self.class_names[c] == sighting.class_name for c in self.detections.class_id], bool)
        if not same_class.any():
            return None
        overlap = box_iou(sighting.place_boxes, self.detections.xyxy[same_class])
        if float(overlap.max()) < self.min_iou:
            return None
        return f"in the reference image of {self.taken_at.isoformat(timespec='minutes')}: not new"
