"""Frame handlers that need no database: print detections as JSON lines (``xiuhua watch`` until the pipeline lands).

One detector serves every stream: `SharedDetector` lets one stream's worker at a time into it (detector backends
keep one inference request and are not thread-safe).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import TextIO

import numpy as np
import numpy.typing as npt

from service.streams.spec import FrameHandler, HandlerFactory, StreamSpec
from vision.detect import Detector
from vision.detect.base import ModelInfo
from vision.detections import Detections
from vision.frame import Frame


class SharedDetector:
    """A detector several stream workers call in turn (a lock around ``detect``)."""

    def __init__(self, detector: Detector) -> None:
        self.detector = detector
        self.info: ModelInfo = detector.info
        self._lock = threading.Lock()

    def detect(self, images: Sequence[npt.NDArray[np.uint8]], conf: float | None = None) -> list[Detections]:
        """The wrapped detector's ``detect``, one caller at a time."""
        with self._lock:
            return self.detector.detect(images, conf=conf)


class LineWriter:
    """Writes whole lines to a text stream from several threads without interleaving them."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._lock = threading.Lock()

    def write(self, lines: Sequence[str]) -> None:
        """Writes the lines together and flushes."""
        if not lines:
            return
        with self._lock:
            self.out.write("".join(f"{line}\n" for line in lines))
            self.out.flush()


class DetectionPrinter(FrameHandler):
    """Detects objects in each frame and writes one JSON line per detection.

    Fields: ``stream`` (camera key), ``frame_index``, ``time`` (UTC arrival, ISO 8601), ``class``, ``confidence``,
    ``box`` ``[x1, y1, x2, y2]`` in pixels.
    """

    def __init__(self, spec: StreamSpec, detector: Detector, writer: LineWriter, *, conf: float | None = None) -> None:
        self.spec = spec
        self.detector = detector
        self.writer = writer
        self.conf = conf
        self.frames = 0
        self.detections = 0

    def handle(self, frame: Frame) -> None:
        """Detects and prints."""
        detections = self.detector.detect([frame.image], conf=self.conf)[0]
        names = self.detector.info.names
        time = frame.wall_time.isoformat() if frame.wall_time else None
        lines = [
            json.dumps(
                {
                    "stream": frame.source_id,
                    "frame_index": frame.index,
                    "time": time,
                    "class": names[int(class_id)] if 0 <= int(class_id) < len(names) else str(int(class_id)),
                    "confidence": round(float(confidence), 4),
                    "box": [round(float(value), 1) for value in box],
                },
                ensure_ascii=False,
            )
            for box, confidence, class_id in zip(
                detections.xyxy, detections.confidence, detections.class_id, strict=True
            )
        ]
        self.writer.write(lines)
        self.frames += 1
        self.detections += len(lines)

    def close(self) -> None:
        """Nothing to release: the detector and the output are shared."""


def detection_printer_factory(detector: Detector, out: TextIO, *, conf: float | None = None) -> HandlerFactory:
    """A handler factory whose handlers share one detector and one output."""
    shared = SharedDetector(detector)
    writer = LineWriter(out)

    def build(spec: StreamSpec) -> FrameHandler:
        return DetectionPrinter(spec, shared, writer, conf=conf)

    return build
