"""Frame sources: video files, photos and folders of photos, live streams; `open_source` picks one.

Every source is an iterable of `vision.frame.Frame` (BGR uint8) with ``describe()``, ``count_hint()`` and
``close()``, and is a context manager::

    with open_source("patrol.mp4", sampling=Sampling.per_second(2)) as source:
        bar = tqdm(total=source.count_hint())
        for frame in source:
            ...
"""

from __future__ import annotations

import os
from datetime import tzinfo
from pathlib import Path

from vision.sources.base import FrameSource, SourceInfo, SourceKind
from vision.sources.exif import PhotoExif, read_exif
from vision.sources.images import IMAGE_SUFFIXES, ImageSource, load_image
from vision.sources.sampling import FrameSelector, Sampling, SamplingMode
from vision.sources.stream import (
    STREAM_SCHEMES,
    Backoff,
    StreamHealth,
    StreamSettings,
    StreamSource,
    is_stream_url,
)
from vision.sources.video import VIDEO_SUFFIXES, VideoSource

__all__ = [
    "IMAGE_SUFFIXES",
    "STREAM_SCHEMES",
    "VIDEO_SUFFIXES",
    "Backoff",
    "FrameSelector",
    "FrameSource",
    "ImageSource",
    "PhotoExif",
    "Sampling",
    "SamplingMode",
    "SourceInfo",
    "SourceKind",
    "StreamHealth",
    "StreamSettings",
    "StreamSource",
    "VideoSource",
    "is_stream_url",
    "load_image",
    "open_source",
    "read_exif",
]


def open_source(
    location: str | os.PathLike[str],
    *,
    sampling: Sampling | None = None,
    realtime: bool = False,
    recursive: bool = False,
    stream: StreamSettings | None = None,
    default_tz: tzinfo | None = None,
    skip_unreadable: bool = False,
) -> VideoSource | ImageSource | StreamSource:
    """Opens whatever the location names, choosing the source by its form.

    - A URL with a streaming scheme (``rtsp://``, ``http(s)://`` including HLS ``.m3u8``, ``rtmp://``, ...) →
      `StreamSource`.
    - A folder, or a file with an image suffix (``IMAGE_SUFFIXES``) → `ImageSource`.
    - Any other file → `VideoSource` (FFmpeg decides whether it is a video), or, with ``realtime=True``, a
      `StreamSource` that plays it at real-time speed like a live camera.

    Args:
        location: File, folder or URL.
        sampling: Frames to keep from videos and streams; default `Sampling()` = 2 fps. Images ignore it.
        realtime: Play a video file at real-time speed through `StreamSource` (demos, tests).
        recursive: Include sub-folders of an image folder.
        stream: Buffering, timeouts and reconnection for streams.
        default_tz: Zone for EXIF times without an offset (images).
        skip_unreadable: Leave unreadable images out of a folder instead of raising.

    Returns:
        The source, not yet reading (streams connect on first read).

    Raises:
        SourceError: The path does not exist, is empty, is not a video, or a folder holds no images.
    """
    if is_stream_url(location):
        return StreamSource(location, sampling=sampling, settings=stream)
    path = Path(location)
    if path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageSource(path, recursive=recursive, default_tz=default_tz, skip_unreadable=skip_unreadable)
    if realtime:
        return StreamSource(path, sampling=sampling, settings=stream)
    return VideoSource(path, sampling=sampling)
