"""Photos and folders of photos: order, EXIF time and GPS, orientation, bad files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from factories.media import make_photo
from PIL import Image

from vision.errors import SourceError
from vision.sources import ImageSource

SHANGHAI = timezone(timedelta(hours=8))


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".bmp", ".tif"])
def test_single_image_is_one_bgr_frame(tmp_path: Path, suffix: str) -> None:
    path = make_photo(tmp_path / f"red{suffix}", size=(40, 20), colour_rgb=(255, 0, 0))

    frames = list(ImageSource(path))

    assert len(frames) == 1
    frame = frames[0]
    assert frame.image.shape == (20, 40, 3) and frame.image.dtype == np.uint8
    assert frame.image[..., 2].mean() > 240 and frame.image[..., 0].mean() < 15  # red lands in channel 2
    assert (frame.source_id, frame.index, frame.timestamp, frame.keyframe) == (str(path), 0, 0.0, True)
    assert frame.wall_time is None and frame.gps is None


def test_exif_time_and_gps(tmp_path: Path) -> None:
    path = make_photo(
        tmp_path / "stall.jpg", taken="2024:05:01 10:00:00", offset="+08:00", gps=(31.2304, 121.4737), heading=90.5
    )

    frame = next(iter(ImageSource(path)))

    assert frame.wall_time == datetime(2024, 5, 1, 10, 0, tzinfo=SHANGHAI)
    assert frame.gps is not None
    assert (frame.gps.lat, frame.gps.lon) == pytest.approx((31.2304, 121.4737), abs=1e-5)
    assert frame.gps.heading_deg == pytest.approx(90.5)


def test_southern_and_western_coordinates_are_negative(tmp_path: Path) -> None:
    path = make_photo(tmp_path / "rio.jpg", gps=(-22.9068, -43.1729))

    frame = next(iter(ImageSource(path)))

    assert frame.gps is not None
    assert (frame.gps.lat, frame.gps.lon) == pytest.approx((-22.9068, -43.1729), abs=1e-5)


def test_time_without_offset_is_naive_unless_a_zone_is_given(tmp_path: Path) -> None:
    path = make_photo(tmp_path / "a.jpg", taken="2024:05:01 10:00:00")

    assert next(iter(ImageSource(path))).wall_time == datetime(2024, 5, 1, 10, 0)
    assert next(iter(ImageSource(path, default_tz=UTC))).wall_time == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_folder_is_read_in_name_order_with_timestamps_from_the_earliest_photo(tmp_path: Path) -> None:
    make_photo(tmp_path / "b.jpg", taken="2024:05:01 10:00:00", offset="+08:00")
    make_photo(tmp_path / "a.jpg", taken="2024:05:01 10:00:30", offset="+08:00")
    make_photo(tmp_path / "c.png")  # no EXIF time
    (tmp_path / "notes.txt").write_text("not a photo, and not listed")

    source = ImageSource(tmp_path)
    frames = list(source)

    assert [Path(frame.source_id).name for frame in frames] == ["a.jpg", "b.jpg", "c.png"]
    assert [frame.index for frame in frames] == [0, 1, 2]
    assert [frame.timestamp for frame in frames] == [30.0, 0.0, 0.0]
    assert source.count_hint() == 3
    info = source.describe()
    assert (info.kind, info.frame_count, info.width, info.height, info.codec) == ("images", 3, 40, 20, "JPEG")


def test_recursive_folder(tmp_path: Path) -> None:
    make_photo(tmp_path / "top.jpg")
    (tmp_path / "day2").mkdir()
    make_photo(tmp_path / "day2" / "inner.jpg")

    assert len(list(ImageSource(tmp_path))) == 1
    assert [Path(f.source_id).name for f in ImageSource(tmp_path, recursive=True)] == ["inner.jpg", "top.jpg"]


@pytest.mark.parametrize(("orientation", "shape"), [(1, (20, 40, 3)), (3, (20, 40, 3)), (6, (40, 20, 3))])
def test_exif_orientation_is_applied(tmp_path: Path, orientation: int, shape: tuple[int, int, int]) -> None:
    path = tmp_path / "phone.jpg"
    # left half black, right half white: after a 180° turn (3) the white half is on the left
    pixels = np.zeros((20, 40, 3), np.uint8)
    pixels[:, 20:] = 255
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(pixels).save(path, exif=exif)

    source = ImageSource(path)
    frame = next(iter(source))

    assert frame.image.shape == shape
    assert (source.describe().height, source.describe().width) == shape[:2]
    if orientation == 3:
        assert frame.image[:, :20].mean() > 200 and frame.image[:, 20:].mean() < 50


def test_sixteen_bit_png_keeps_its_brightness(tmp_path: Path) -> None:
    path = tmp_path / "depth.png"
    Image.fromarray(np.full((10, 10), 40000, np.uint16)).save(path)

    frame = next(iter(ImageSource(path)))

    assert int(frame.image[0, 0, 0]) == 40000 >> 8


def test_unreadable_file_raises_after_the_good_ones(tmp_path: Path) -> None:
    make_photo(tmp_path / "a.jpg")
    broken = tmp_path / "b.jpg"
    broken.write_text("this is not a JPEG")
    make_photo(tmp_path / "c.jpg")

    frames = []
    with pytest.raises(SourceError, match="not a readable image") as caught:
        for frame in ImageSource(tmp_path):
            frames.append(frame)
    assert len(frames) == 1
    assert caught.value.source == str(broken)


def test_unreadable_files_can_be_skipped(tmp_path: Path) -> None:
    make_photo(tmp_path / "a.jpg")
    (tmp_path / "b.jpg").write_bytes(b"")
    truncated = make_photo(tmp_path / "c.jpg", size=(400, 300))
    truncated.write_bytes(truncated.read_bytes()[:200])
    make_photo(tmp_path / "d.jpg")

    source = ImageSource(tmp_path, skip_unreadable=True)
    frames = list(source)

    assert [Path(frame.source_id).name for frame in frames] == ["a.jpg", "d.jpg"]
    assert [frame.index for frame in frames] == [0, 3]
    assert [Path(error.source).name for error in source.skipped] == ["b.jpg", "c.jpg"]


@pytest.mark.parametrize("content", [None, "notes.txt"], ids=["empty", "no-images"])
def test_folder_without_images_is_an_error(tmp_path: Path, content: str | None) -> None:
    if content is not None:
        (tmp_path / content).write_text("hello")
    with pytest.raises(SourceError, match="no images") as caught:
        ImageSource(tmp_path)
    assert caught.value.source == str(tmp_path)


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        ImageSource(tmp_path / "nowhere")


def test_non_image_is_a_source_error_even_after_ultralytics_patched_pil(tmp_path: Path) -> None:
    # ultralytics replaces Image.open with one that tries an optional HEIF plugin on unknown files.
    pytest.importorskip("ultralytics.utils.patches")
    broken = tmp_path / "b.jpg"
    broken.write_text("this is not a JPEG")
    with pytest.raises(SourceError, match="not a readable image"):
        list(ImageSource(broken))
