"""Frames on their way to the detector: the motion gate and the tracker's clock, decoding ahead, photos."""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import cast

import numpy as np
import pytest
from factories.detectors import FAKE_NAMES, BrightnessDetector
from factories.media import make_video

from service.pipeline.source import FrameDetector, ModelDetector, PipelineSettings, SourcePipeline
from service.scan.frames import FeedCounts, GatedDetector, feed_frames, photo_sightings, read_ahead
from vision.detections import Detections
from vision.frame import Frame
from vision.gate import GateSettings, MotionGate
from vision.sighting import Sighting
from vision.sources import Sampling, open_source

BRIGHT, DARK = (200, 200, 200), (30, 30, 30)


def _stall_then_empty(folder: Path) -> Path:
    """60 s at 2 fps: a 'stall' (a bright view) for 40 s, then an empty (dark) street for 20 s."""
    bright = make_video(folder / "bright.mp4", frames=80, fps=2, colour_bgr=BRIGHT)
    dark = make_video(folder / "dark.mp4", frames=40, fps=2, colour_bgr=DARK)
    frames = [f.image for path in (bright, dark) for f in open_source(path, sampling=Sampling.every_frame())]
    import av

    out = folder / "fixed.mp4"
    with av.open(str(out), "w") as container:
        stream = container.add_stream("libx264", rate=2)
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        for image in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        container.mux(stream.encode(None))
    return out


def _scan(video: Path, gate: MotionGate | None) -> tuple[list[Sighting], FeedCounts, BrightnessDetector]:
    model = BrightnessDetector()
    detector: FrameDetector = ModelDetector(model)
    if gate is not None:
        detector = GatedDetector(detector, gate)
    sightings: list[Sighting] = []
    counts = FeedCounts()
    pipeline = SourcePipeline(detector, PipelineSettings.for_camera("fixed", FAKE_NAMES, 2.0))
    with open_source(video, sampling=Sampling.per_second(2)) as source:
        pipeline.run(feed_frames(source, counts), sightings.append)
    return sightings, counts, model


def test_gated_frames_skip_the_detector_and_the_track_keeps_its_time(tmp_path: Path) -> None:
    video = _stall_then_empty(tmp_path)
    plain, plain_counts, plain_model = _scan(video, None)
    gated, gated_counts, gated_model = _scan(video, MotionGate(GateSettings(force_every_s=5.0)))

    assert plain_counts.read == gated_counts.read == 120
    # Detected: the first frame, a forced pass every 5 s, and the frame where the view changed.
    assert sum(plain_model.calls) == 120 and sum(gated_model.calls) == 12
    # The tracker still sees every frame at its time: the same single sighting, the same dwell, with or without.
    assert len(plain) == len(gated) == 1
    assert (gated[0].first_time, gated[0].last_time, gated[0].frames_seen) == (0.0, 39.5, 80)
    assert (plain[0].first_time, plain[0].last_time, plain[0].frames_seen) == (0.0, 39.5, 80)
    assert gated[0].class_name == "vendor_stall"


def test_progress_is_told_frames_and_video_seconds() -> None:
    told: list[tuple[int, float]] = []
    frames = [Frame(np.zeros((8, 8, 3), np.uint8), "s", i, i * 0.5) for i in range(7)]
    counts = FeedCounts()
    assert len(list(feed_frames(frames, counts, progress=lambda n, s: told.append((n, s))))) == 7
    assert sum(n for n, _ in told) == 7 and sum(s for _, s in told) == pytest.approx(3.0)
    assert (counts.read, counts.video_seconds) == (7, 3.0)


def test_read_ahead_keeps_order_and_raises_the_producers_error_after_its_items() -> None:
    def numbers() -> Iterator[int]:
        yield from range(5)
        raise ValueError("truncated at 5")

    seen: list[int] = []
    with pytest.raises(ValueError, match="truncated at 5"):
        for number in read_ahead(numbers(), depth=2):
            seen.append(number)
    assert seen == [0, 1, 2, 3, 4]
    assert list(read_ahead(iter(range(3)), depth=0)) == [0, 1, 2]


def test_leaving_read_ahead_early_stops_and_closes_the_producer() -> None:
    closed = threading.Event()

    def endless() -> Iterator[int]:
        try:
            number = 0
            while True:
                yield number
                number += 1
        finally:
            closed.set()

    ahead = cast(Generator[int, None, None], read_ahead(endless(), depth=3))
    assert [next(ahead) for _ in range(4)] == [0, 1, 2, 3]
    ahead.close()
    assert closed.is_set()  # closed in its own thread before read_ahead returned


def test_each_box_of_a_photo_is_one_undamped_sighting() -> None:
    frame = Frame(np.full((40, 60, 3), 200, np.uint8), "shop.jpg", 0, 0.0)
    detections = Detections(
        xyxy=np.array([[1, 1, 20, 20], [30, 5, 50, 30]], np.float32),
        confidence=np.array([0.9, 0.4], np.float32),
        class_id=np.array([0, 2], np.int64),
    )
    sightings = photo_sightings(frame, detections, FAKE_NAMES)
    summary = [(s.track_id, s.class_name, s.frames_seen) for s in sightings]
    assert summary == [(1, "vendor_stall", 1), (2, "signboard", 1)]
    assert [s.score for s in sightings] == pytest.approx([0.9, 0.4])
    assert photo_sightings(frame, Detections.empty(), FAKE_NAMES) == []
