"""PyAV helpers shared by the video-file and stream sources: opening, metadata, timestamps, pixels."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.container
import av.error
import numpy as np
import numpy.typing as npt
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from vision.errors import SourceError
from vision.sources.sampling import Sampling

_MKV_DURATION = re.compile(r"^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$")


def open_input(
    location: str,
    *,
    options: Mapping[str, str] | None = None,
    timeout: tuple[float, float] | None = None,
) -> av.container.InputContainer:
    """Opens a file or URL for reading, turning every PyAV failure into a `SourceError` that names it."""
    try:
        return av.open(location, "r", options=dict(options or {}), timeout=timeout, metadata_errors="replace")
    except av.error.FFmpegError as error:
        what = "is not a readable video" if Path(location).is_file() else "cannot be opened"
        raise SourceError(location, f"{what} ({describe_av_error(error)})") from error
    except OSError as error:
        raise SourceError(location, f"cannot be opened ({error.strerror or error})") from error


def describe_av_error(error: BaseException) -> str:
    """A short reason for an FFmpeg error, without the file name PyAV appends."""
    if isinstance(error, av.error.FFmpegError) and error.strerror:
        return f"ffmpeg: {error.strerror}"
    return f"{type(error).__name__}: {error}"


def first_video_stream(container: av.container.InputContainer, location: str) -> VideoStream:
    """The container's first video stream, set up for threaded decoding."""
    if not container.streams.video:
        container.close()
        raise SourceError(location, "has no video stream")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    return stream


def check_local_file(path: Path) -> None:
    """Raises `SourceError` for a missing, non-regular or empty file before FFmpeg gives a vaguer reason."""
    if not path.exists():
        raise SourceError(str(path), "file does not exist")
    if path.is_dir():
        raise SourceError(str(path), "is a folder, not a video file")
    if path.stat().st_size == 0:
        raise SourceError(str(path), "file is empty")


def frame_seconds(frame: VideoFrame, stream: VideoStream, start: int | None) -> float | None:
    """Seconds from the stream's start, from the frame's presentation timestamp; None without one."""
    pts = frame.pts
    time_base = frame.time_base or stream.time_base
    if pts is None or time_base is None:
        return None
    return float((pts - (start or 0)) * time_base)


def to_bgr(frame: VideoFrame) -> npt.NDArray[np.uint8]:
    """The frame's pixels as a contiguous ``(H, W, 3)`` uint8 BGR array."""
    return np.ascontiguousarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)


def parse_creation_time(metadata: Mapping[str, str]) -> datetime | None:
    """The ``creation_time`` tag as an aware UTC datetime; None when absent, unparsable or an unset epoch."""
    text = metadata.get("creation_time")
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # MP4 writes 0 (1904) or 1970 when the recorder had no clock.
    return moment if moment.year > 1971 else None


def stream_duration(container: av.container.InputContainer, stream: VideoStream) -> float | None:
    """Seconds of video: the stream's own duration, Matroska's DURATION tag, or the container's."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    tagged = _parse_mkv_duration(stream.metadata.get("DURATION", ""))
    if tagged is not None:
        return tagged
    if container.duration is not None and len(container.streams) == 1:
        return container.duration / av.time_base
    return None


def _parse_mkv_duration(text: str) -> float | None:
    match = _MKV_DURATION.match(text.strip())
    if match is None:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def average_fps(stream: VideoStream) -> float | None:
    """The container's frame-rate estimate, if any: the average rate, else FFmpeg's guess.

    The guess wins when the average is more than twice it: AVI files with millisecond ticks report the tick rate
    (1000) as their average.
    """
    average: Fraction | None = stream.average_rate
    guessed: Fraction | None = stream.guessed_rate or stream.base_rate
    if average and (not guessed or average <= 2 * guessed):
        return float(average)
    return float(guessed) if guessed else None


def frame_count(container: av.container.InputContainer, stream: VideoStream) -> int | None:
    """Frames in the stream when the header says so reliably.

    MP4/MOV count their samples. AVI gives its length in time-base ticks, which are frames only when the tick is
    one frame long. Other containers give none.
    """
    frames = stream.frames
    if not frames:
        return None
    if container.format.name.startswith("mov,mp4"):
        return frames
    rate = stream.guessed_rate
    if container.format.name == "avi" and rate and stream.time_base and abs(stream.time_base * rate - 1) < 0.01:
        return frames
    return None


def set_sampling(stream: VideoStream, sampling: Sampling) -> None:
    """Tells the decoder to skip non-key frames entirely when only keyframes are wanted."""
    if sampling.mode == "keyframes":
        stream.codec_context.skip_frame = "NONKEY"


def stream_metadata(container: av.container.InputContainer, stream: VideoStream) -> dict[str, Any]:
    """The `SourceInfo` fields a container and its video stream can tell."""
    return {
        "width": stream.codec_context.width or None,
        "height": stream.codec_context.height or None,
        "duration": stream_duration(container, stream),
        "fps": average_fps(stream),
        "frame_count": frame_count(container, stream),
        "codec": stream.codec_context.name,
        "container": container.format.name,
        "creation_time": parse_creation_time(container.metadata) or parse_creation_time(stream.metadata),
    }
