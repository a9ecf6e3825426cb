"""`open_source` picks the source from the location's form."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories.media import make_photo, make_video

from vision.errors import SourceError
from vision.sources import (
    FrameSource,
    ImageSource,
    Sampling,
    StreamSettings,
    StreamSource,
    VideoSource,
    open_source,
)


def test_video_file(tmp_path: Path) -> None:
    path = make_video(tmp_path / "patrol.mkv", frames=25)

    with open_source(path, sampling=Sampling.per_second(5)) as source:
        assert isinstance(source, VideoSource) and isinstance(source, FrameSource)
        assert source.describe().sampling == "5 fps"
        assert source.count_hint() == len(list(source)) == 5


def test_photo_and_folder(tmp_path: Path) -> None:
    photo = make_photo(tmp_path / "shop.JPG")

    assert isinstance(open_source(photo), ImageSource)
    folder = open_source(tmp_path)
    assert isinstance(folder, ImageSource) and isinstance(folder, FrameSource)
    assert folder.count_hint() == 1


def test_url_gives_an_unstarted_stream() -> None:
    source = open_source("rtsp://127.0.0.1:1/cam", stream=StreamSettings(buffer_size=3))

    assert isinstance(source, StreamSource) and isinstance(source, FrameSource)
    assert not source.health().connected and source.health().frames_in == 0
    assert source.describe().kind == "stream"
    source.close()


def test_realtime_plays_a_file_as_a_stream(tmp_path: Path) -> None:
    path = make_video(tmp_path / "clip.mp4", frames=5)

    with open_source(path, realtime=True, sampling=Sampling.every_frame()) as source:
        assert isinstance(source, StreamSource)
        assert len(list(source)) == 5


@pytest.mark.parametrize("name", ["missing.mp4", "missing.jpg", "missing-folder"])
def test_missing_location_is_an_error(tmp_path: Path, name: str) -> None:
    with pytest.raises(SourceError) as caught:
        open_source(tmp_path / name)
    assert str(tmp_path / name) in str(caught.value)
