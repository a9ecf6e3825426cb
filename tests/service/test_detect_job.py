from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from factories.detectors import BrightnessDetector
from factories.media import CAR_VIDEO, grey_level, make_photo, make_video, truncate_copy

from service.detect_job import DetectJob, DetectReport, expand_inputs
from vision.sources import Sampling


def run_job(sources: list[str], **kwargs: object) -> tuple[list[dict[str, object]], DetectReport]:
    out = io.StringIO()
    job = DetectJob(BrightnessDetector(), sampling=Sampling.every_frame(), **kwargs)  # type: ignore[arg-type]
    report = job.run(sources, out)
    return [json.loads(line) for line in out.getvalue().splitlines()], report


def test_one_line_per_detection_with_container_timestamps(tmp_path: Path) -> None:
    video = make_video(tmp_path / "clip.mp4", frames=12, fps=10)
    records, report = run_job([str(video)], batch_size=5)
    bright = [i for i in range(12) if grey_level(i) >= 100]
    assert [r["frame_index"] for r in records] == bright
    assert [r["timestamp"] for r in records] == pytest.approx([i / 10 for i in bright])
    first = records[0]
    assert set(first) == {"source", "frame_index", "timestamp", "class", "confidence", "box"}
    assert first["class"] == "vendor_stall"
    assert first["source"] == str(video)
    assert report.frames == 12
    assert report.failures == []


def test_failing_source_is_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    good = make_photo(tmp_path / "photo.jpg", size=(40, 20), colour_rgb=(250, 250, 250))
    records, report = run_job([str(bad), str(good)])
    assert [r["source"] for r in records] == [str(good)]
    assert [f.source for f in report.failures] == [str(bad)]


@pytest.mark.skipif(not CAR_VIDEO.exists(), reason="needs ../shared/data")
def test_truncated_video_keeps_frames_read_before_the_damage(tmp_path: Path) -> None:
    half = truncate_copy(CAR_VIDEO, tmp_path / "half.mp4")
    out = io.StringIO()
    detector = BrightnessDetector(level=0.0, default_conf=0.0)  # every frame yields one detection
    job = DetectJob(detector, sampling=Sampling.every_frame(), batch_size=7)
    report = job.run([str(half)], out)
    assert len(report.failures) == 1
    assert "half.mp4" in report.failures[0].source
    lines = out.getvalue().splitlines()
    assert len(lines) == report.frames > 100  # every readable frame, including the last partial batch
    assert sum(detector.calls) == report.frames


def test_annotated_frames_are_written_for_frames_with_detections(tmp_path: Path) -> None:
    video = make_video(tmp_path / "clip.mkv", frames=6, fps=5)
    run_job([str(video)], annotate_dir=tmp_path / "annotated")
    written = sorted(p.name for p in (tmp_path / "annotated" / "clip").iterdir())
    assert written == [f"{i:06d}.jpg" for i in range(6) if grey_level(i) >= 100]


def test_folders_expand_to_each_video_and_one_image_source(tmp_path: Path) -> None:
    make_video(tmp_path / "a.mp4", frames=2)
    make_photo(tmp_path / "p.jpg")
    (tmp_path / "empty").mkdir()
    sources, failures = expand_inputs([str(tmp_path), str(tmp_path / "empty")])
    assert sources == [str(tmp_path / "a.mp4"), str(tmp_path)]
    assert [f.source for f in failures] == [str(tmp_path / "empty")]
