"""Ground-truth boxes of generated clips as a detector: measures tracking, location and de-duplication alone.

The clip writers (`write_patrol`, `write_fixed`) record every labelled box per frame in a ``*_frames.jsonl``.
`TruthDetector` hands those boxes back for the frames a scan samples, as if a perfect detector had found them,
so an evaluation can tell the detector's misses apart from the rest of the chain's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vision.detections import Detections
from vision.errors import VisionError
from vision.frame import Frame
from vision.synth.classes import CLASS_NAMES


@dataclass(frozen=True)
class TruthDetector:
    """Per-frame ground truth by decode index, with confidence 1."""

    frames: dict[int, Detections]
    names: tuple[str, ...] = CLASS_NAMES

    @classmethod
    def load(cls, path: Path) -> TruthDetector:
        """Reads a ``frames.jsonl`` written by the synthetic clip writers.

        Raises:
            VisionError: The file is missing or a line is malformed (named by line number).
        """
        frames: dict[int, Detections] = {}
        try:
            lines = path.read_text().splitlines()
        except OSError as error:
            raise VisionError(f"{path}: cannot read ground-truth frames: {error}") from error
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                boxes = np.asarray(record["boxes"], np.float32).reshape(-1, 4)
                frames[int(record["frame"])] = Detections(
                    xyxy=boxes,
                    confidence=np.ones(len(boxes), np.float32),
                    class_id=np.asarray(record["class_id"], np.int64),
                )
            except (ValueError, KeyError, TypeError) as error:
                raise VisionError(f"{path}:{number}: malformed ground-truth line: {error}") from error
        return cls(frames)

    def detect_frames(self, frames: Sequence[Frame]) -> list[Detections]:
        """The recorded boxes of each frame (none for frames the file does not list)."""
        return [self.frames.get(frame.index, Detections.empty()) for frame in frames]
