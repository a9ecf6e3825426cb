"""Running a detector over files and folders and writing one JSON line per detection."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import cv2

from vision.detect.base import Detector
from vision.detections import Detections
from vision.draw import draw_detections
from vision.errors import VisionError
from vision.frame import Frame
from vision.sources import IMAGE_SUFFIXES, VIDEO_SUFFIXES, Sampling, is_stream_url, open_source


@dataclass(frozen=True)
class SourceFailure:
    """A source that could not be read to its end, and why."""

    source: str
    reason: str


@dataclass
class DetectReport:
    """What a detect run did: counts, and every source that failed."""

    sources: int = 0
    frames: int = 0
    detections: int = 0
    failures: list[SourceFailure] = field(default_factory=list)


def expand_inputs(paths: Sequence[str]) -> tuple[list[str], list[SourceFailure]]:
    """Turn command-line paths into sources: each video in a folder on its own, a folder's images as one source.

    Returns:
        The sources to read, and the paths that name nothing readable (missing, empty folder).
    """
    sources: list[str] = []
    failures: list[SourceFailure] = []
    for path in paths:
        folder = Path(path)
        if is_stream_url(path) or not folder.is_dir():
            sources.append(path)  # a missing file is reported by open_source, with its reason
            continue
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        videos = [str(p) for p in files if p.suffix.lower() in VIDEO_SUFFIXES]
        has_images = any(p.suffix.lower() in IMAGE_SUFFIXES for p in files)
        sources.extend(videos)
        if has_images:
            sources.append(path)
        if not videos and not has_images:
            failures.append(SourceFailure(path, "folder holds no images or videos"))
    return sources, failures


class Progress:
    """Progress callbacks; the default does nothing, the CLI supplies one that draws a bar."""

    def source_started(self, source: str, frames_hint: int | None) -> None:
        """A source was opened; ``frames_hint`` is how many frames it will likely yield."""

    def frames_done(self, count: int, detections: int) -> None:
        """``count`` more frames were processed; ``detections`` is the run's total so far."""

    def source_done(self) -> None:
        """The current source is finished (or failed)."""


class DetectJob:
    """Reads sources frame by frame, detects in batches, writes JSONL and optional annotated frames."""

    def __init__(
        self,
        detector: Detector,
        *,
        sampling: Sampling,
        conf: float | None = None,
        batch_size: int = 4,
        annotate_dir: Path | None = None,
    ) -> None:
        self.detector = detector
        self.sampling = sampling
        self.conf = conf
        self.batch_size = max(1, batch_size)
        self.annotate_dir = annotate_dir

    def run(self, sources: Sequence[str], out: TextIO, progress: Progress | None = None) -> DetectReport:
        """Detect in every source; a failing source is recorded and the run goes on with the next one."""
        report = DetectReport()
        for source in sources:
            report.sources += 1
            try:
                self._run_source(source, out, report, progress)
            except VisionError as error:
                report.failures.append(SourceFailure(source, str(getattr(error, "reason", error))))
            if progress is not None:
                progress.source_done()
        return report

    def _run_source(self, source: str, out: TextIO, report: DetectReport, progress: Progress | None) -> None:
        with open_source(source, sampling=self.sampling, recursive=True) as frames:
            if progress is not None:
                progress.source_started(source, frames.count_hint())
            pending: list[Frame] = []
            try:
                for frame in frames:
                    pending.append(frame)
                    if len(pending) == self.batch_size:
                        self._detect_batch(pending, out, report, progress)
                        pending = []
            finally:
                # Frames read before a source fails are still detected and written.
                self._detect_batch(pending, out, report, progress)

    def _detect_batch(self, batch: list[Frame], out: TextIO, report: DetectReport, progress: Progress | None) -> None:
        if not batch:
            return
        results = self.detector.detect([frame.image for frame in batch], conf=self.conf)
        for frame, detections in zip(batch, results, strict=True):
            self._write(frame, detections, out)
            report.frames += 1
            report.detections += len(detections)
        out.flush()
        if progress is not None:
            progress.frames_done(len(batch), report.detections)

    def _write(self, frame: Frame, detections: Detections, out: TextIO) -> None:
        names = self.detector.info.names
        for box, score, class_id in zip(detections.xyxy, detections.confidence, detections.class_id, strict=True):
            record = {
                "source": frame.source_id,
                "frame_index": frame.index,
                "timestamp": round(frame.timestamp, 4),
                "class": names[class_id],
                "confidence": round(float(score), 4),
                "box": [round(float(v), 1) for v in box],
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        if self.annotate_dir is not None and len(detections):
            self._annotate(frame, detections)

    def _annotate(self, frame: Frame, detections: Detections) -> None:
        assert self.annotate_dir is not None
        folder = self.annotate_dir / _safe_name(Path(frame.source_id).stem or "stream")
        folder.mkdir(parents=True, exist_ok=True)
        caption = f"{frame.source_id}  t={frame.timestamp:.2f}s  #{frame.index}"
        image = draw_detections(frame.image, detections, self.detector.info.names, caption=caption)
        cv2.imwrite(str(folder / f"{frame.index:06d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 90])


def _safe_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
