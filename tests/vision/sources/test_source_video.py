"""Video files decoded with PyAV: timing, sampling, metadata and damaged input."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from factories.media import CAR_VIDEO, HEIGHT, WIDTH, grey_level, make_video, truncate_copy

from vision.errors import SourceError
from vision.frame import Frame
from vision.sources import Sampling, VideoSource

EVERY = Sampling.every_frame()


def read_all(source: VideoSource) -> tuple[list[Frame], SourceError | None]:
    """Frames until the end or the first error, and that error."""
    frames: list[Frame] = []
    try:
        for frame in source:
            frames.append(frame)
    except SourceError as error:
        return frames, error
    return frames, None


@pytest.mark.parametrize(
    ("name", "codec"),
    [
        ("clip.mp4", "libx264"),
        ("clip.mkv", "libx264"),
        ("clip.mov", "libx264"),
        ("clip.ts", "libx264"),
        ("clip.flv", "libx264"),
        ("clip.avi", "mpeg4"),
        ("clip.mkv", "libx265"),
    ],
)
def test_every_frame_of_each_container_and_codec(tmp_path: Path, name: str, codec: str) -> None:
    path = make_video(tmp_path / name, frames=20, fps=25, codec=codec)

    frames, error = read_all(VideoSource(path, sampling=EVERY))

    assert error is None
    assert [frame.index for frame in frames] == list(range(20))
    assert [frame.timestamp for frame in frames] == pytest.approx([i / 25 for i in range(20)], abs=1e-3)
    assert all(frame.image.shape == (HEIGHT, WIDTH, 3) and frame.image.dtype == np.uint8 for frame in frames)
    assert all(frame.source_id == str(path) for frame in frames)
    assert [round(float(frame.image.mean())) for frame in frames] == pytest.approx(
        [grey_level(i) for i in range(20)], abs=4
    )
    assert frames[0].keyframe


def test_describe_reads_the_header(tmp_path: Path) -> None:
    path = make_video(tmp_path / "clip.mp4", frames=50, fps=25)

    info = VideoSource(path).describe()

    assert (info.kind, info.width, info.height, info.codec) == ("video", WIDTH, HEIGHT, "h264")
    assert info.frame_count == 50
    assert info.fps == pytest.approx(25.0)
    assert info.duration == pytest.approx(2.0, abs=0.05)
    assert info.sampling == "2 fps"
    assert info.creation_time is None


def test_variable_frame_rate_timestamps_come_from_pts(tmp_path: Path) -> None:
    pts_ms = [0, 40, 80, 300, 320, 1000, 1040, 1500, 2600, 2640]
    for name in ("vfr.mp4", "vfr.mkv"):
        path = make_video(tmp_path / name, pts_ms=pts_ms, gop=3)

        frames, error = read_all(VideoSource(path, sampling=EVERY))

        assert error is None
        assert [frame.timestamp for frame in frames] == pytest.approx([ms / 1000 for ms in pts_ms], abs=1e-3)
        assert [frame.index for frame in frames] == list(range(len(pts_ms)))


def test_fps_sampling_follows_presentation_time_not_frame_count(tmp_path: Path) -> None:
    pts_ms = [0, 40, 80, 300, 320, 1000, 1040, 1500, 2600, 2640]
    path = make_video(tmp_path / "vfr.mp4", pts_ms=pts_ms, gop=3)

    frames, error = read_all(VideoSource(path, sampling=Sampling.per_second(2.0)))

    assert error is None
    # ticks at 0, 0.5, 1.0, 1.5, 2.0 (no frame before 2.6), 2.5 ...
    assert [frame.timestamp for frame in frames] == pytest.approx([0.0, 1.0, 1.5, 2.6], abs=1e-3)
    assert [frame.index for frame in frames] == [0, 5, 7, 8]


def test_keyframes_only(tmp_path: Path) -> None:
    path = make_video(tmp_path / "clip.mp4", frames=50, fps=25, gop=10)
    source = VideoSource(path, sampling=Sampling.keyframes())

    frames, error = read_all(source)

    assert error is None
    assert all(frame.keyframe for frame in frames)
    assert [frame.index for frame in frames] == [0, 10, 20, 30, 40]
    assert [frame.timestamp for frame in frames] == pytest.approx([0.0, 0.4, 0.8, 1.2, 1.6], abs=1e-3)
    assert source.count_hint() is None


def test_count_hint_matches_what_is_yielded(tmp_path: Path) -> None:
    path = make_video(tmp_path / "clip.mp4", frames=50, fps=25)
    for sampling in (EVERY, Sampling.per_second(2.0), Sampling.per_second(5.0)):
        source = VideoSource(path, sampling=sampling)
        assert source.count_hint() == len(list(source))


def test_pixels_are_bgr(tmp_path: Path) -> None:
    path = make_video(tmp_path / "blue.mp4", frames=3, colour_bgr=(255, 0, 0))

    image = next(iter(VideoSource(path))).image

    blue, green, red = (float(image[..., channel].mean()) for channel in range(3))
    assert blue > 200 and green < 40 and red < 40


def test_wall_time_is_creation_time_plus_timestamp(tmp_path: Path) -> None:
    created = "2024-05-01T08:00:00.000000Z"
    path = make_video(tmp_path / "clip.mp4", frames=25, metadata={"creation_time": created})
    source = VideoSource(path, sampling=EVERY)

    frames = list(source)

    start = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert source.describe().creation_time == start
    assert frames[10].wall_time == start + timedelta(seconds=frames[10].timestamp)


def test_iterating_twice_decodes_again_and_close_stops_an_iteration(tmp_path: Path) -> None:
    path = make_video(tmp_path / "clip.mp4", frames=20)
    with VideoSource(path, sampling=EVERY) as source:
        assert len(list(source)) == 20
        frames = iter(source)
        next(frames)
        source.close()
        assert list(frames) == []
        assert len(list(source)) == 20


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        (lambda tmp: tmp / "missing.mp4", "does not exist"),
        (lambda tmp: _write(tmp / "empty.mp4", b""), "empty"),
        (lambda tmp: _write(tmp / "notes.mp4", b"these are not the frames you are looking for\n" * 50), "video"),
        (lambda tmp: tmp, "folder"),
    ],
    ids=["missing", "empty", "not-a-video", "folder"],
)
def test_bad_input_names_the_file(tmp_path: Path, setup: Callable[[Path], Path], reason: str) -> None:
    path = setup(tmp_path)
    with pytest.raises(SourceError, match=reason) as caught:
        VideoSource(path)
    assert caught.value.source == str(path)
    assert str(path) in str(caught.value)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "options"), [("faststart.mp4", {"movflags": "faststart"}), ("stream.mkv", {})], ids=["mp4", "mkv"]
)
def test_truncated_file_yields_what_it_can_then_raises(tmp_path: Path, name: str, options: dict[str, str]) -> None:
    whole = make_video(tmp_path / name, frames=60, gop=10, options=options)
    cut = truncate_copy(whole, tmp_path / f"cut-{name}")

    frames, error = read_all(VideoSource(cut, sampling=EVERY))

    assert 5 < len(frames) < 60
    assert [frame.index for frame in frames] == list(range(len(frames)))
    assert error is not None and error.source == str(cut)
    assert "truncated" in error.reason


def test_corrupt_middle_yields_the_rest_then_reports_the_bad_packets(tmp_path: Path) -> None:
    path = make_video(tmp_path / "clip.mp4", frames=60, options={"movflags": "faststart"})
    data = bytearray(path.read_bytes())
    start, length = len(data) // 3, len(data) // 6
    data[start : start + length] = bytes(length)  # zeros over a sixth of the picture data
    path.write_bytes(bytes(data))

    frames, error = read_all(VideoSource(path, sampling=EVERY))

    assert 10 < len(frames) < 60
    assert frames[-1].timestamp == pytest.approx(59 / 25, abs=1e-3)  # decoding went on past the damage
    assert error is not None and error.source == str(path)
    assert "could not be decoded" in error.reason


def test_truncated_mp4_without_its_index_cannot_be_opened(tmp_path: Path) -> None:
    # PyAV writes the moov atom (the index) at the end unless told faststart: cut off, nothing is readable.
    cut = truncate_copy(make_video(tmp_path / "clip.mp4", frames=60), tmp_path / "cut.mp4")

    with pytest.raises(SourceError, match="moov") as caught:
        VideoSource(cut)
    assert caught.value.source == str(cut)


def test_truncated_real_video_yields_the_first_half_then_raises(tmp_path: Path) -> None:
    if not CAR_VIDEO.exists():
        pytest.skip(f"{CAR_VIDEO} is not available")
    cut = truncate_copy(CAR_VIDEO, tmp_path / "car-half.mp4")

    frames, error = read_all(VideoSource(cut, sampling=Sampling.per_second(2.0)))

    # its moov atom is at the start, so the first half (about 13.5 s of 30) decodes
    assert len(frames) > 20
    assert 10.0 < frames[-1].timestamp < 20.0
    assert error is not None and error.source == str(cut) and str(cut) in str(error)
    assert "truncated" in error.reason


@pytest.mark.slow
def test_real_video_timestamps_span_thirty_seconds() -> None:
    if not CAR_VIDEO.exists():
        pytest.skip(f"{CAR_VIDEO} is not available")
    source = VideoSource(CAR_VIDEO, sampling=EVERY)

    frames = list(source)

    info = source.describe()
    assert (info.width, info.height, info.codec) == (768, 432, "h264")
    assert info.duration == pytest.approx(30.16, abs=0.1)
    assert len(frames) == info.frame_count == source.count_hint()
    assert frames[0].timestamp == 0.0
    assert frames[-1].timestamp == pytest.approx(30.08, abs=0.05)
    assert all(later.timestamp > earlier.timestamp for earlier, later in itertools.pairwise(frames))
    assert frames[0].image.shape == (432, 768, 3)
    assert frames[0].wall_time == info.creation_time
