from __future__ import annotations

import json
from pathlib import Path

import pytest
from factories.media import make_video
from factories.tracking import make_detections, make_frame, moving_box

from vision.errors import SourceError
from vision.sources import Sampling
from vision.track import TrackerSettings
from vision.track.evaluate import LinkingQuality, linking_quality, read_patrol_pass


def write_pass(folder: Path, frames: int = 12, lines: int | None = None) -> tuple[Path, Path]:
    """A tiny patrol pass: two objects, one crossing the frame slowly, one standing still."""
    video = make_video(folder / "pass_1.mp4", frames=frames, fps=5)
    truth = folder / "pass_1_frames.jsonl"
    rows = []
    for k in range(frames if lines is None else lines):
        boxes = [moving_box((2, 5, 22, 25), (2, 0), k), [40, 10, 60, 40]]
        rows.append(json.dumps({"frame": k, "t": k / 5, "boxes": boxes, "class_id": [0, 3], "object_id": [11, 12]}))
    truth.write_text("\n".join(rows) + "\n")
    return video, truth


def test_a_clean_pass_is_linked_perfectly(tmp_path: Path) -> None:
    video, truth = write_pass(tmp_path)
    frames = list(read_patrol_pass(video, truth, jitter=0.0, drop=0.0))
    assert len(frames) == 12 and frames[3][0].timestamp == pytest.approx(0.6)
    assert frames[3][1].track_id is not None and frames[3][1].track_id.tolist() == [11, 12]
    quality = linking_quality(frames, TrackerSettings(frame_rate=5.0))
    assert quality == LinkingQuality(objects=2, found=1.0, tracks_per_found=1.0, wrong_rows=0.0)


def test_sampling_picks_frames_and_their_truth(tmp_path: Path) -> None:
    video, truth = write_pass(tmp_path)
    frames = list(read_patrol_pass(video, truth, sampling=Sampling.per_second(2.5), jitter=0.0, drop=0.0))
    assert [frame.index for frame, _ in frames] == [0, 2, 4, 6, 8, 10]
    assert frames[1][1].xyxy[0].tolist() == moving_box((2, 5, 22, 25), (2, 0), 2)


def test_noise_and_drops_are_seeded(tmp_path: Path) -> None:
    video, truth = write_pass(tmp_path)
    first = [d.xyxy.tolist() for _, d in read_patrol_pass(video, truth, seed=4)]
    again = [d.xyxy.tolist() for _, d in read_patrol_pass(video, truth, seed=4)]
    other = [d.xyxy.tolist() for _, d in read_patrol_pass(video, truth, seed=5)]
    assert first == again != other


@pytest.mark.parametrize("lines", [10, 14])
def test_a_truth_file_that_does_not_match_the_video_is_named(tmp_path: Path, lines: int) -> None:
    video, truth = write_pass(tmp_path, lines=lines)
    with pytest.raises(SourceError, match=rf"do not match the {lines} lines of pass_1_frames\.jsonl"):
        list(read_patrol_pass(video, truth))


def test_a_malformed_truth_line_is_named(tmp_path: Path) -> None:
    video, truth = write_pass(tmp_path)
    lines = truth.read_text().splitlines()
    lines[2] = '{"frame": 2, "boxes": [[1, 2, 3, 4]]}'
    truth.write_text("\n".join(lines))
    with pytest.raises(SourceError, match=r"pass_1_frames\.jsonl: line 3: 'class_id'"):
        list(read_patrol_pass(video, truth))


def test_detections_without_true_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="true object ids"):
        linking_quality([(make_frame(0), make_detections([[0, 0, 9, 9]]))], TrackerSettings())


def test_a_tracks_first_detection_counts_for_it() -> None:
    # Two objects seen in two sampled frames each: the tracker confirms each track on its second detection and
    # hands the first back in Tracker.first_detections, so each track holds both of its object's detections.
    frames = [
        (make_frame(k), make_detections([[10, 10, 40, 40], [80, 10, 110, 40]], class_id=[0, 3], track_id=[5, 6]))
        for k in range(2)
    ]
    quality = linking_quality(frames, TrackerSettings(frame_rate=2.0), min_detections=2, min_track_rows=2)
    assert quality == LinkingQuality(objects=2, found=1.0, tracks_per_found=1.0, wrong_rows=0.0)
