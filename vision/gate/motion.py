"""A motion / scene-change gate: lets a fixed camera's frames through only when something in the view changed.

Fixed cameras mostly film an empty, unchanging street. Running the detector on every sampled frame of such footage
wastes the machine; the gate compares each frame with the last one it let through (downscaled, grey, blurred) and
skips frames where too few pixels changed. Sensor noise and compression artefacts are removed by the blur, a grey-level
threshold and a morphological opening; a scene cut or a global brightness change changes most pixels and always passes;
a periodic forced pass lets slow changes and the tracker still see the view now and then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from vision.frame import Frame

GateReason = Literal["first", "motion", "scene", "forced", "still"]
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class GateSettings:
    """How sensitive the gate is. Times are in seconds of the frames' own clock (``Frame.timestamp``).

    Attributes:
        working_width: Width in pixels the frames are shrunk to before comparing (height keeps the aspect).
        blur_kernel: Side of the Gaussian blur applied at working size (odd); smooths noise and compression blocks.
        pixel_threshold: Grey-level difference (0-255) above which a pixel counts as changed.
        min_changed_fraction: Fraction of (not ignored) pixels that must change for a frame to pass as motion.
        scene_fraction: Fraction of changed pixels from which the change counts as a scene cut or a global change.
        force_every_s: A frame passes at least this often, changed or not; 0 disables the forced pass.
        ignore_boxes: Regions never compared, as ``(x1, y1, x2, y2)`` fractions of the width and height (an
            on-screen clock, a waving flag).
    """

    working_width: int = 256
    blur_kernel: int = 5
    pixel_threshold: int = 20
    min_changed_fraction: float = 0.0005
    scene_fraction: float = 0.4
    force_every_s: float = 5.0
    ignore_boxes: tuple[Box, ...] = ()

    def __post_init__(self) -> None:
        if self.working_width < 16:
            raise ValueError(f"working_width must be >= 16, got {self.working_width}")
        if self.blur_kernel < 1 or self.blur_kernel % 2 == 0:
            raise ValueError(f"blur_kernel must be a positive odd number, got {self.blur_kernel}")
        if not 0 < self.pixel_threshold < 255:
            raise ValueError(f"pixel_threshold must be in (0, 255), got {self.pixel_threshold}")
        if not 0 < self.min_changed_fraction <= self.scene_fraction <= 1:
            raise ValueError(
                "gate fractions need 0 < min_changed_fraction <= scene_fraction <= 1, "
                f"got {self.min_changed_fraction} and {self.scene_fraction}"
            )
        if self.force_every_s < 0:
            raise ValueError(f"force_every_s must be >= 0, got {self.force_every_s}")
        for box in self.ignore_boxes:
            check_ignore_box(box)


def check_ignore_box(box: Box) -> None:
    """Raises ValueError unless the box is four fractions ``x1 < x2``, ``y1 < y2`` within [0, 1]."""
    if len(box) != 4 or not all(isinstance(value, int | float) for value in box):
        raise ValueError(f"an ignore box is four numbers (x1, y1, x2, y2), got {box!r}")
    x1, y1, x2, y2 = box
    if not (0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1):
        raise ValueError(f"an ignore box needs 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1, got {box!r}")


@dataclass(frozen=True)
class GateDecision:
    """Whether a frame passes the gate, and why.

    Attributes:
        changed: True when the frame should be processed.
        score: Fraction of compared pixels that changed since the last frame that passed (0 for the first).
        reason: ``"first"`` (nothing to compare with yet, or the clock restarted), ``"motion"``, ``"scene"`` (a cut,
            a new frame size or a global change), ``"forced"`` (the periodic pass) or ``"still"`` (skipped).
    """

    changed: bool
    score: float
    reason: GateReason


class MotionGate:
    """Compares each frame with the last frame that passed; one gate per camera.

    Example:
        >>> gate = MotionGate(GateSettings(force_every_s=10))
        >>> for frame in source:
        ...     if gate.check(frame).changed:
        ...         detections = detector.detect([frame.image])[0]
    """

    def __init__(self, settings: GateSettings | None = None) -> None:
        """Creates a gate with nothing to compare with; the first frame always passes.

        Args:
            settings: Sensitivity and timing; default `GateSettings()`.
        """
        self.settings = settings or GateSettings()
        self._reference: npt.NDArray[np.uint8] | None = None
        self._reference_time = 0.0
        self._mask: npt.NDArray[np.bool_] | None = None
        self._kernel = np.ones((3, 3), np.uint8)

    def check(self, frame: Frame) -> GateDecision:
        """Decides whether the frame passes; a frame that passes becomes the new reference.

        Args:
            frame: The next frame of this camera, in time order.

        Returns:
            The decision with the changed fraction and the reason.
        """
        grey = self._prepare(frame.image)
        reference = self._reference
        if reference is None or frame.timestamp < self._reference_time:
            return self._accept(grey, frame.timestamp, 0.0, "first")
        if reference.shape != grey.shape:
            return self._accept(grey, frame.timestamp, 1.0, "scene")
        score = self._changed_fraction(reference, grey)
        if score >= self.settings.scene_fraction:
            return self._accept(grey, frame.timestamp, score, "scene")
        if score >= self.settings.min_changed_fraction:
            return self._accept(grey, frame.timestamp, score, "motion")
        force = self.settings.force_every_s
        if force > 0 and frame.timestamp - self._reference_time >= force:
            return self._accept(grey, frame.timestamp, score, "forced")
        return GateDecision(changed=False, score=score, reason="still")

    def reset(self) -> None:
        """Forgets the reference: the next frame passes as ``"first"`` (after a camera moved to a new preset)."""
        self._reference = None

    def _accept(self, grey: npt.NDArray[np.uint8], timestamp: float, score: float, reason: GateReason) -> GateDecision:
        self._reference, self._reference_time = grey, timestamp
        return GateDecision(changed=True, score=score, reason=reason)

    def _prepare(self, image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        height, width = image.shape[:2]
        target_width = min(width, self.settings.working_width)
        target_height = max(1, round(height * target_width / width))
        small = cv2.resize(image, (target_width, target_height), interpolation=cv2.INTER_AREA)
        grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        kernel = self.settings.blur_kernel
        blurred = cv2.GaussianBlur(grey, (kernel, kernel), 0) if kernel > 1 else grey
        return np.asarray(blurred, dtype=np.uint8)

    def _changed_fraction(self, reference: npt.NDArray[np.uint8], grey: npt.NDArray[np.uint8]) -> float:
        difference = cv2.absdiff(reference, grey)
        _, changed = cv2.threshold(difference, self.settings.pixel_threshold, 255, cv2.THRESH_BINARY)
        # An opening removes isolated specks that survive the blur (compression blocks, hot pixels).
        changed = cv2.morphologyEx(changed, cv2.MORPH_OPEN, self._kernel)
        mask = self._compared(grey.shape[:2])
        if mask is None:
            return float(np.count_nonzero(changed)) / changed.size
        compared = int(np.count_nonzero(mask))
        return float(np.count_nonzero(changed[mask])) / compared if compared else 0.0

    def _compared(self, shape: tuple[int, ...]) -> npt.NDArray[np.bool_] | None:
        """The pixels compared at working size, or None when nothing is ignored."""
        if not self.settings.ignore_boxes:
            return None
        if self._mask is None or self._mask.shape != shape:
            height, width = shape
            mask = np.ones((height, width), bool)
            for x1, y1, x2, y2 in self.settings.ignore_boxes:
                mask[int(y1 * height) : int(np.ceil(y2 * height)), int(x1 * width) : int(np.ceil(x2 * width))] = False
            self._mask = mask
        return self._mask
