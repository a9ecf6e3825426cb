"""Which files a scan command names, their sidecar GPS tracks, and the job key of a command."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from factories.media import make_photo, make_video

from service.scan.inputs import discover, find_sidecar
from service.scan.options import ScanOptions, job_key


@pytest.mark.parametrize("sidecar", ["clip.gpx", "clip.nmea", "clip.csv", "clip.mp4.gpx", "CLIP.GPX", "clip.MP4.csv"])
def test_sidecar_track_is_found_by_the_video_name(tmp_path: Path, sidecar: str) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"x")
    (tmp_path / sidecar).write_text("track")
    (tmp_path / "other.gpx").write_text("not this one")
    found = find_sidecar(video)
    assert found is not None and found.name == sidecar


def test_gpx_wins_over_csv_and_a_video_without_a_track_has_none(tmp_path: Path) -> None:
    for name in ("clip.mp4", "clip.csv", "clip.gpx", "lone.mp4"):
        (tmp_path / name).write_text("x")
    assert find_sidecar(tmp_path / "clip.mp4") == tmp_path / "clip.gpx"
    assert find_sidecar(tmp_path / "lone.mp4") is None


def test_discover_walks_folders_and_reports_what_names_nothing(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    (archive / "day2").mkdir(parents=True)
    make_video(archive / "b.mp4", frames=3)
    make_video(archive / "day2" / "a.mkv", frames=3)
    (archive / "b.gpx").write_text("track")
    (archive / "notes.txt").write_text("not media")
    make_photo(archive / "day2" / "shop.jpg")
    empty = tmp_path / "empty"
    empty.mkdir()
    files, problems = discover(
        [str(archive), str(archive / "b.mp4"), str(tmp_path / "missing.mp4"), str(empty), "rtsp://cam/1"]
    )
    assert [(f.path.relative_to(archive).as_posix(), f.media) for f in files] == [
        ("b.mp4", "video"),
        ("day2/a.mkv", "video"),
        ("day2/shop.jpg", "image"),
    ]  # each file once, though named twice
    assert files[0].track == (archive / "b.gpx").resolve() and files[1].track is None
    assert all(f.path.is_absolute() for f in files)
    reasons = {p.path: p.reason for p in problems}
    assert reasons[str(tmp_path / "missing.mp4")] == "no such file or folder"
    assert reasons[str(empty)] == "holds no videos or photos"
    assert "xiuhua watch" in reasons["rtsp://cam/1"]


def test_the_same_command_is_the_same_job_and_other_options_are_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "clips").mkdir()
    monkeypatch.chdir(tmp_path)
    options = ScanOptions(kind="patrol")
    key = job_key(["clips"], options)
    assert job_key([str(tmp_path / "clips")], ScanOptions(kind="patrol")) == key  # relative or absolute
    assert job_key(["clips", "clips"], options) == key
    assert job_key(["clips"], ScanOptions(kind="fixed")) != key
    assert job_key(["clips"], ScanOptions(kind="patrol", gps_offset_s=1.5)) != key
    assert len(key) == 64


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "drone"}, "kind must be one of"),
        ({"sample": "fast"}, "sampling 'fast'"),
        ({"start": datetime(2024, 1, 1)}, "has no time zone"),
        ({"gps_offset_s": float("nan")}, "finite"),
        ({"detector": "magic"}, "detector must be one of"),
    ],
)
def test_bad_options_are_refused_naming_the_option(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ScanOptions(**changes)  # type: ignore[arg-type]


def test_sampling_follows_the_camera_kind_unless_told() -> None:
    assert str(ScanOptions().sampling_for("patrol")) == "5 fps"
    assert str(ScanOptions().sampling_for("fixed")) == "2 fps"
    assert str(ScanOptions(sample="1fps").sampling_for("patrol")) == "1 fps"
    assert str(ScanOptions(sample="1fps", skim=True).sampling_for("fixed")) == "keyframes"
    assert ScanOptions(start=datetime(2024, 1, 1, tzinfo=UTC)).as_json()["start"] == "2024-01-01T00:00:00+00:00"
