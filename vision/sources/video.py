"""Video files (mp4, mkv, avi, mov, ts, flv; H.264, H.265, MPEG-4 ...) decoded with PyAV."""

from __future__ import annotations

import os
import weakref
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import av.container
import av.error
from av.packet import Packet
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from vision.errors import SourceError
from vision.frame import Frame
from vision.sources import _av
from vision.sources.base import ClosingSource, SourceInfo
from vision.sources.sampling import FrameSelector, Sampling

VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".mkv", ".webm", ".avi", ".mov", ".ts", ".m2ts", ".mts", ".flv", ".mpg", ".mpeg", ".3gp"}
)
_MP4_FAMILY = frozenset({".mp4", ".m4v", ".mov", ".3gp"})
_MOOV_HINT = "; an MP4/MOV recording cut short before its index (moov atom) was written cannot be read"
# A video shorter than its header promises by more than this is reported as truncated.
_TRUNCATION_SLACK_S = 1.0


@dataclass
class _Progress:
    """What one pass over a file has seen, to tell a complete file from a damaged one at the end."""

    packets: int = 0
    last_packet_end: float | None = None
    decoded: int = 0
    yielded: int = 0
    last_timestamp: float = 0.0
    bad_packets: int = 0
    consecutive_bad: int = 0
    problems: list[str] = field(default_factory=list)
    keyframe_packets: dict[int, int] = field(default_factory=dict)


class VideoSource(ClosingSource):
    """Decodes a video file into `Frame` objects, as fast as the machine allows.

    Frame fields: ``timestamp`` is seconds from the container's presentation timestamps (pts × time_base minus the
    stream's start time), so variable-frame-rate files are timed right. ``index`` is the frame's number in decoder
    output order, counted for every decoded frame, including frames that sampling skips. With
    ``Sampling.keyframes()`` non-key frames are never decoded, and ``index`` is instead the decode-order number of
    the keyframe's packet, which equals its frame number in files without frame reordering across keyframes
    (closed GOPs: nearly all camera recordings). ``wall_time`` is the container's ``creation_time`` plus the
    timestamp, when the container has one. ``keyframe`` is the decoder's key-frame flag.

    A damaged file first yields every frame that could be decoded, then raises `SourceError` saying what was wrong:
    packets the decoder rejected, or fewer frames (or seconds) than the header promises. MP4/MOV files whose index
    (moov atom) is at the end and was cut off cannot be opened at all. Limits: MPEG-TS has no length in its header,
    so a TS file cut between packets reads as a shorter recording; and where FFmpeg conceals damage itself (H.264
    in TS resynchronises and drops broken pictures) the missing frames are not reported.

    Iterating again decodes the file again from the start.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, sampling: Sampling | None = None, max_bad_packets: int = 100
    ) -> None:
        """Opens the file once to check it and read its metadata.

        Args:
            path: The video file.
            sampling: Which frames to hand on; default `Sampling()` (2 fps).
            max_bad_packets: Consecutive undecodable packets after which reading stops.

        Raises:
            SourceError: The file is missing, empty, a folder, not a video, or has no video stream.
        """
        self.path = Path(path)
        self.source_id = str(path)
        self.sampling = sampling or Sampling()
        self.max_bad_packets = max_bad_packets
        self._iterators: weakref.WeakSet[Generator[Frame, None, None]] = weakref.WeakSet()
        _av.check_local_file(self.path)
        try:
            container = _av.open_input(self.source_id)
        except SourceError as error:
            if self.path.suffix.lower() in _MP4_FAMILY:
                raise SourceError(self.source_id, error.reason + _MOOV_HINT) from error
            raise
        try:
            stream = _av.first_video_stream(container, self.source_id)
            self._info = SourceInfo(
                source_id=self.source_id,
                kind="video",
                sampling=str(self.sampling),
                **_av.stream_metadata(container, stream),
            )
        finally:
            container.close()

    def describe(self) -> SourceInfo:
        """Metadata read from the container header."""
        return self._info

    def count_hint(self) -> int | None:
        """Frames iteration should yield with this sampling, from the header; None in keyframe mode."""
        return self.sampling.expected_count(self._info.duration, self._info.frame_count)

    def __iter__(self) -> Iterator[Frame]:
        frames = self._decode()
        self._iterators.add(frames)
        return frames

    def close(self) -> None:
        """Stops any iteration in progress and closes its file."""
        for frames in list(self._iterators):
            frames.close()

    def _decode(self) -> Generator[Frame, None, None]:
        container = _av.open_input(self.source_id)
        try:
            stream = _av.first_video_stream(container, self.source_id)
            _av.set_sampling(stream, self.sampling)
            selector = FrameSelector(self.sampling)
            progress = _Progress()
            for packet in self._packets(container, stream, progress):
                for frame in self._decode_packet(packet, progress):
                    index, timestamp = self._place(frame, stream, progress)
                    if selector.accept(timestamp, bool(frame.key_frame)):
                        progress.yielded += 1
                        yield Frame(
                            image=_av.to_bgr(frame),
                            source_id=self.source_id,
                            index=index,
                            timestamp=timestamp,
                            wall_time=_wall_time(self._info.creation_time, timestamp),
                            keyframe=bool(frame.key_frame),
                        )
                if progress.consecutive_bad > self.max_bad_packets:
                    progress.problems.append(f"stopped after {progress.consecutive_bad} undecodable packets in a row")
                    break
        finally:
            container.close()
        self._raise_if_damaged(progress)

    def _packets(
        self, container: av.container.InputContainer, stream: VideoStream, progress: _Progress
    ) -> Iterator[Packet]:
        packets = container.demux(stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except av.error.FFmpegError as error:
                progress.problems.append(
                    f"reading stopped at {progress.last_timestamp:.2f} s ({_av.describe_av_error(error)})"
                )
                return
            if packet.size > 0 or packet.dts is not None:
                self._count_packet(packet, stream, progress)
            yield packet

    def _count_packet(self, packet: Packet, stream: VideoStream, progress: _Progress) -> None:
        if self.sampling.mode == "keyframes" and packet.is_keyframe and packet.pts is not None:
            progress.keyframe_packets[packet.pts] = progress.packets
        progress.packets += 1
        if packet.pts is not None and packet.time_base is not None:
            end = (packet.pts + (packet.duration or 0) - (stream.start_time or 0)) * packet.time_base
            progress.last_packet_end = max(float(end), progress.last_packet_end or 0.0)

    def _decode_packet(self, packet: Packet, progress: _Progress) -> list[VideoFrame]:
        try:
            frames = [frame for frame in packet.decode() if isinstance(frame, VideoFrame)]
        except av.error.FFmpegError:
            progress.bad_packets += 1
            progress.consecutive_bad += 1
            return []
        progress.consecutive_bad = 0
        return frames

    def _place(self, frame: VideoFrame, stream: VideoStream, progress: _Progress) -> tuple[int, float]:
        """The frame's index and timestamp (seconds), counting it as decoded."""
        timestamp = _av.frame_seconds(frame, stream, stream.start_time)
        if timestamp is None:  # no PTS: continue from the previous frame at the nominal rate
            timestamp = progress.last_timestamp + 1.0 / (self._info.fps or 25.0) if progress.decoded else 0.0
        index = progress.decoded
        if self.sampling.mode == "keyframes" and frame.pts is not None:
            index = progress.keyframe_packets.pop(frame.pts, index)
        progress.decoded += 1
        progress.last_timestamp = timestamp
        return index, timestamp

    def _raise_if_damaged(self, progress: _Progress) -> None:
        problems = list(progress.problems)
        if progress.bad_packets:
            problems.append(f"{progress.bad_packets} packet(s) could not be decoded (corrupt data)")
        expected_frames = self._info.frame_count
        expected_seconds = self._info.duration
        if expected_frames is not None and progress.packets < expected_frames:
            problems.append(
                f"truncated or corrupt: only {progress.packets} of the {expected_frames} frames in its index "
                "could be read"
            )
        elif (
            expected_frames is None
            and expected_seconds is not None
            and progress.last_packet_end is not None
            and progress.last_packet_end < expected_seconds - _TRUNCATION_SLACK_S
        ):
            problems.append(
                f"truncated or corrupt: video stops at {progress.last_packet_end:.2f} s of the "
                f"{expected_seconds:.2f} s its header gives"
            )
        if problems:
            raise SourceError(
                self.source_id, "; ".join(problems) + f" ({progress.yielded} frames were read before that)"
            )


def _wall_time(creation_time: datetime | None, timestamp: float) -> datetime | None:
    return None if creation_time is None else creation_time + timedelta(seconds=timestamp)
