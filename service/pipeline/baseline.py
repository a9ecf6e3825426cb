"""What a fixed camera's reference image already shows: objects there before are not new violations.

A shop's signboard is in view every day; the city approved it long ago, or it is another department's business.
What a fixed camera should raise is what appeared since its reference image was taken (影像对比). The detector runs
once on the reference; a sighting of the same class in the same place (boxes overlapping) is explained by it, and
so is one of a class the detector takes for the reference box's class on the same static object (``lookalikes``:
a poster on a shop window read as window advertising in one frame and as a poster in another).
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

# Classes the shipped detector reads as one another on the same static object (see ``Baseline.lookalikes``).
REFERENCE_LOOKALIKES: tuple[tuple[str, ...], ...] = (("poster", "win_ad"), ("ad_board", "goods_outside_shop"))


@dataclass(frozen=True)
class Baseline:
    """Objects detected in a camera's reference image.

    Attributes:
        detections: The reference's detections, in the reference's pixels (the camera does not move).
        class_names: The detector's class names by class id.
        taken_at: When the reference was taken.
        min_iou: Overlap with a reference box of the same class above which a sighting is the same object.
        lookalikes: Groups of classes the detector confuses for one another on one static object; a reference box
            of any class in the sighting's group explains it. Keep them narrow: a stall parked where the reference
            shows a pile is new.
    """

    detections: Detections
    class_names: tuple[str, ...]
    taken_at: datetime
    min_iou: float = 0.3
    lookalikes: tuple[tuple[str, ...], ...] = ()

    def explains(self, sighting: Sighting) -> str | None:
        """Why the sighting is not new (a drop reason), or ``None`` when the reference does not show it."""
        alike = self._alike(sighting.class_name)
        rows = np.flatnonzero([self.class_names[c] in alike for c in self.detections.class_id])
        if not len(rows):
            return None
        overlap = box_iou(sighting.place_boxes, self.detections.xyxy[rows]).max(axis=0)
        best = int(np.argmax(overlap))
        if float(overlap[best]) < self.min_iou:
            return None
        shown = self.class_names[int(self.detections.class_id[rows[best]])]
        seen_as = "" if shown == sighting.class_name else f" (seen there as {shown})"
        return f"in the reference image of {self.taken_at.isoformat(timespec='minutes')}{seen_as}: not new"

    def _alike(self, class_name: str) -> frozenset[str]:
        for group in self.lookalikes:
            if class_name in group:
                return frozenset(group)
        return frozenset((class_name,))
