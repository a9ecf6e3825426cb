"""Planning a source: camera kind, sampling, gate, where its start time comes from, how it is located."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from factories.media import make_photo, make_video

from service.scan.inputs import SourceFile
from service.scan.options import ScanOptions
from service.scan.plan import (
    START_CONTAINER,
    START_EXIF,
    START_MTIME,
    START_OPTION,
    START_TRACK,
    CameraInfo,
    plan_source,
)
from vision.synth.geo import TrackPoint, write_gpx

TRACK_START = datetime(2024, 5, 6, 2, 0, tzinfo=UTC)
CREATED = "2024-05-07T03:04:05.000000Z"
FIXED = CameraInfo(key="cam-1", name="pole 1", kind="fixed", lat=31.2, lon=121.4)


def _track(path: Path) -> Path:
    points = [TrackPoint(TRACK_START + timedelta(seconds=s), 31.2 + s * 1e-5, 121.4) for s in range(5)]
    return write_gpx(path, points, "drive")


def _video(folder: Path, *, created: bool = False, track: bool = False) -> SourceFile:
    video = make_video(folder / "clip.mp4", frames=25, metadata={"creation_time": CREATED} if created else None)
    return SourceFile(video, "video", _track(folder / "clip.gpx") if track else None)


def test_a_video_with_a_track_is_a_patrol_video_sampled_at_5_fps_and_placed_by_the_track(tmp_path: Path) -> None:
    plan = plan_source(_video(tmp_path, track=True), ScanOptions(), None)
    assert (plan.kind, str(plan.sampling), plan.gate, plan.location) == ("patrol", "5 fps", False, "GPS track")
    assert plan.start == TRACK_START and plan.start_origin == START_TRACK
    assert plan.duration_s == pytest.approx(1.0) and plan.problem is None and not plan.warnings


def test_the_container_clock_wins_over_the_track(tmp_path: Path) -> None:
    plan = plan_source(_video(tmp_path, created=True, track=True), ScanOptions(), None)
    assert plan.start == datetime(2024, 5, 7, 3, 4, 5, tzinfo=UTC) and plan.start_origin == START_CONTAINER


def test_without_clock_or_track_start_comes_from_the_option_else_the_file_time(tmp_path: Path) -> None:
    source = _video(tmp_path)
    given = datetime(2024, 1, 2, 8, 0, tzinfo=UTC)
    assert plan_source(source, ScanOptions(start=given), FIXED).start_origin == START_OPTION
    ended = datetime(2024, 3, 1, 12, 0, 10, tzinfo=UTC)
    os.utime(source.path, (ended.timestamp(), ended.timestamp()))
    plan = plan_source(source, ScanOptions(), FIXED)
    assert plan.start_origin == START_MTIME
    assert plan.start == ended - timedelta(seconds=1.0)  # the file was last written when the recording ended


def test_a_fixed_camera_is_sampled_at_2_fps_behind_the_gate_and_placed_where_it_stands(tmp_path: Path) -> None:
    plan = plan_source(_video(tmp_path, track=True), ScanOptions(camera="cam-1"), FIXED)
    assert (plan.kind, str(plan.sampling), plan.gate, plan.location) == ("fixed", "2 fps", True, "camera position")
    assert plan.track is None  # a fixed camera does not move: a track beside its video is not used
    calibrated = CameraInfo(key="cam-2", name="", kind="ptz", calibration={"image_points": [], "map_points": []})
    assert plan_source(_video(tmp_path), ScanOptions(), calibrated).location == "calibration"


@pytest.mark.parametrize(
    ("options", "kind", "sampling", "gate"),
    [
        (ScanOptions(kind="patrol"), "patrol", "5 fps", False),
        (ScanOptions(gate=False), "fixed", "2 fps", False),
        (ScanOptions(skim=True), "fixed", "keyframes", True),
        (ScanOptions(sample="all", kind="ptz"), "ptz", "every frame", True),
    ],
)
def test_options_override_the_inferred_kind_sampling_and_gate(
    tmp_path: Path, options: ScanOptions, kind: str, sampling: str, gate: bool
) -> None:
    plan = plan_source(_video(tmp_path), options, None)
    assert (plan.kind, str(plan.sampling), plan.gate) == (kind, sampling, gate)


def test_without_any_position_the_plan_warns_that_nothing_will_be_located(tmp_path: Path) -> None:
    plan = plan_source(_video(tmp_path), ScanOptions(), None)
    assert plan.location == "none" and "not located" in plan.warnings[0]
    patrol = plan_source(_video(tmp_path), ScanOptions(kind="patrol"), None)
    assert "without a GPS track" in patrol.warnings[0]


def test_a_broken_track_or_video_is_a_problem_naming_the_file(tmp_path: Path) -> None:
    source = _video(tmp_path, track=True)
    assert source.track is not None
    source.track.write_text('<gpx><trk><trkseg><trkpt lat="91" lon="0"><time>x</time></trkpt></trkseg></trk></gpx>')
    plan = plan_source(source, ScanOptions(), None)
    assert plan.problem is not None and "clip.gpx" in plan.problem
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    bad = plan_source(SourceFile(broken, "video"), ScanOptions(), None)
    assert bad.problem is not None and "broken.mp4" in bad.problem


def test_a_photo_is_timed_by_exif_and_placed_by_its_gps(tmp_path: Path) -> None:
    photo = make_photo(tmp_path / "p.jpg", taken="2024:05:06 10:00:00", offset="+08:00", gps=(31.2, 121.4))
    plan = plan_source(SourceFile(photo, "image"), ScanOptions(), None)
    assert plan.kind is None and plan.start_origin == START_EXIF and plan.location == "photo GPS (EXIF)"
    assert plan.start == datetime(2024, 5, 6, 2, 0, tzinfo=UTC)
    bare = plan_source(SourceFile(make_photo(tmp_path / "q.jpg"), "image"), ScanOptions(), None)
    assert bare.location == "none" and bare.warnings


@pytest.mark.parametrize(
    ("gop", "fps", "expected", "gap"),
    [
        (50, 25, "keyframes", 2.0),  # a camera's usual 2 s GOP: keyframes are enough, and far cheaper to decode
        (250, 25, "2 fps", 10.0),  # a 'smart codec' GOP of 10 s: too sparse for the tracker, decode 2 fps
        (5, 25, "2 fps", 0.2),  # keyframes 5 times a second: no saving, keep 2 fps
    ],
)
def test_fixed_cameras_take_their_keyframes_when_those_are_a_few_seconds_apart(
    tmp_path: Path, gop: int, fps: int, expected: str, gap: float | None
) -> None:
    video = make_video(tmp_path / "cam.mp4", frames=12 * fps, fps=fps, gop=gop)
    plan = plan_source(SourceFile(video, "video"), ScanOptions(), FIXED)
    assert str(plan.sampling) == expected and plan.gate
    assert plan.keyframe_gap_s == (pytest.approx(gap) if gap is not None else None)
    if expected == "keyframes":
        assert plan.tracker_fps == pytest.approx(0.5) and plan.describe_sampling() == "keyframes (every 2.0 s) + gate"
        assert str(plan_source(SourceFile(video, "video"), ScanOptions(sample="2fps"), FIXED).sampling) == "2 fps"
        assert str(plan_source(SourceFile(video, "video"), ScanOptions(kind="patrol"), FIXED).sampling) == "5 fps"
