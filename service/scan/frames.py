"""Frames on their way to the detector: the motion gate, progress counts, decoding ahead, and photos.

The gate sits in front of the detector, not the tracker: a frame the gate finds unchanged since the last frame it
let through is not detected, it gets that frame's detections again. The tracker and the sighting builder still see
every sampled frame at its own time, so a stall that stands still for minutes is tracked from its second frame to
the frame before it leaves, exactly as without the gate (dwell times decide fixed-camera candidates); only the
detector's work shrinks to the frames where something moved, plus a forced pass every few seconds.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar, cast

import numpy as np

from service.pipeline.source import FrameDetector
from service.pipeline.wiring import detector_confidence, detector_names
from vision.detections import Detections
from vision.frame import Frame
from vision.gate import MotionGate
from vision.sighting import Sighting
from vision.track import SightingBuilder, SightingSettings

T = TypeVar("T")
Progress = Callable[[int, float], object]  # (frames read since the last call, video seconds since the last call)
_PROGRESS_EVERY_S = 0.25


@dataclass
class FeedCounts:
    """What a frame feed has seen so far.

    Attributes:
        read: Frames decoded and kept by the sampling.
        detected: Frames the detector ran on (fewer than ``read`` behind the motion gate).
        video_seconds: How far into the source the feed has got (the last frame's timestamp).
    """

    read: int = 0
    detected: int = 0
    video_seconds: float = 0.0


def feed_frames(frames: Iterable[Frame], counts: FeedCounts, *, progress: Progress | None = None) -> Iterator[Frame]:
    """Counts frames and reports progress a few times a second.

    Args:
        frames: The source's sampled frames, in time order.
        counts: Updated as frames go by.
        progress: Called with the frames and video seconds read since its previous call.
    """
    reported_frames, reported_seconds = 0, 0.0
    last_report = time.monotonic()
    for frame in frames:
        counts.read += 1
        counts.video_seconds = max(counts.video_seconds, frame.timestamp)
        if progress is not None and time.monotonic() - last_report >= _PROGRESS_EVERY_S:
            progress(counts.read - reported_frames, counts.video_seconds - reported_seconds)
            reported_frames, reported_seconds = counts.read, counts.video_seconds
            last_report = time.monotonic()
        yield frame
    if progress is not None and counts.read > reported_frames:
        progress(counts.read - reported_frames, counts.video_seconds - reported_seconds)


class GatedDetector:
    """A `FrameDetector` that detects only in frames the motion gate lets through.

    A frame the gate finds unchanged gets the detections of the last frame that passed (its view is the same).
    One gate per source: it remembers the last frame that passed.

    Attributes:
        detected: Frames handed to the wrapped detector.
        reused: Frames that got the previous detections instead.
    """

    def __init__(self, detector: FrameDetector, gate: MotionGate) -> None:
        self.detector = detector
        self.gate = gate
        self.detected = 0
        self.reused = 0
        self._last = Detections.empty()

    @property
    def names(self) -> tuple[str, ...]:
        """The wrapped detector's class names."""
        return detector_names(self.detector)

    @property
    def operating_conf(self) -> float:
        """The wrapped detector's operating confidence (see `detector_confidence`)."""
        return detector_confidence(self.detector)

    def detect_frames(self, frames: Sequence[Frame]) -> list[Detections]:
        """Detections per frame: the detector's for changed frames (one batch), the last ones for the others."""
        changed = [self.gate.check(frame).changed for frame in frames]
        fresh = iter(self.detector.detect_frames([f for f, c in zip(frames, changed, strict=True) if c]))
        results: list[Detections] = []
        for is_changed in changed:
            if is_changed:
                self._last = next(fresh)
                self.detected += 1
            else:
                self.reused += 1
            results.append(self._last)
        return results


def read_ahead(items: Iterable[T], depth: int) -> Iterator[T]:
    """Iterates ``items`` in a background thread, at most ``depth`` ahead of the consumer.

    Video decoding (FFmpeg) and inference (OpenVINO) both release the GIL, so decoding the next frames while the
    detector works on this batch uses the second core. An error in the producer is raised in the consumer after
    the items before it; closing the consumer early stops the producer and waits for it, so the source can be
    closed safely afterwards. ``depth`` < 1 iterates in the caller's thread.
    """
    if depth < 1:
        yield from items
        return
    slots: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(kind: str, value: object) -> bool:
        while not stop.is_set():
            try:
                slots.put((kind, value), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not offer("item", item):
                    return
            offer("end", None)
        except BaseException as error:  # handed to the consumer, which raises it in its own thread
            offer("error", error)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="scan-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = slots.get()
            if kind == "end":
                return
            if kind == "error":
                assert isinstance(value, BaseException)
                raise value
            yield cast(T, value)
    finally:
        stop.set()
        thread.join()


def photo_sightings(frame: Frame, detections: Detections, class_names: Sequence[str]) -> list[Sighting]:
    """One sighting per detection of a single photo (a photo has no track: each box is its own object).

    The score is the detection's confidence, not damped for being seen once: one picture is all there is.
    """
    if not len(detections):
        return []
    builder = SightingBuilder(SightingSettings(tuple(class_names), full_score_frames=1))
    builder.update(frame, detections.with_tracks(np.arange(1, len(detections) + 1, dtype=np.int64)))
    return builder.flush()
