"""Live streams (RTSP, HTTP/MJPEG, HLS, ...) and files played at real-time speed, read on a background thread.

A live camera does not wait for a slow consumer. A reader thread decodes continuously and keeps only the newest
frames in a small buffer; stale frames are dropped (and counted) instead of piling up. A lost or refused connection
is retried with exponential backoff.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import av.container
import av.error
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from vision.errors import SourceError
from vision.frame import Frame
from vision.sources import _av
from vision.sources.base import ClosingSource, SourceInfo
from vision.sources.sampling import FrameSelector, Sampling

log = logging.getLogger(__name__)

STREAM_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "udp", "tcp", "srt", "rtp"})


def is_stream_url(location: str | os.PathLike[str]) -> bool:
    """Whether the location is a URL with a streaming scheme (``rtsp://``, ``http://`` ...)."""
    return urlsplit(str(location)).scheme.lower() in STREAM_SCHEMES


@dataclass(frozen=True)
class Backoff:
    """Reconnection delays: ``initial``, then times ``factor`` per consecutive failure, capped at ``maximum``.

    Attributes:
        initial: Seconds before the first retry.
        maximum: Longest wait between retries, in seconds.
        factor: Growth per consecutive failure.
        give_up_after: Consecutive failures (refused connections, or connections that ended without delivering a
            frame) after which the source stops and reports an error; None retries for ever.
    """

    initial: float = 0.5
    maximum: float = 30.0
    factor: float = 2.0
    give_up_after: int | None = None

    def __post_init__(self) -> None:
        if not 0 < self.initial <= self.maximum:
            raise ValueError(f"backoff needs 0 < initial <= maximum, got {self.initial} and {self.maximum}")
        if self.factor < 1:
            raise ValueError(f"backoff factor must be >= 1, got {self.factor}")
        if self.give_up_after is not None and self.give_up_after < 1:
            raise ValueError(f"give_up_after must be >= 1 or None, got {self.give_up_after}")

    def delay(self, failures: int) -> float:
        """Seconds to wait after this many consecutive failures (1 = the first)."""
        return float(min(self.maximum, self.initial * self.factor ** max(0, failures - 1)))


@dataclass(frozen=True)
class StreamSettings:
    """How a `StreamSource` connects and buffers.

    Attributes:
        buffer_size: Newest frames kept for the consumer; older ones are dropped.
        open_timeout: Seconds to wait for a connection.
        read_timeout: Seconds without data after which a connection counts as lost.
        backoff: Reconnection policy.
        rtsp_transport: RTSP over ``"tcp"`` (reliable through NAT and firewalls) or ``"udp"``.
        options: Extra FFmpeg options passed to ``av.open``.
    """

    buffer_size: int = 1
    open_timeout: float = 10.0
    read_timeout: float = 10.0
    backoff: Backoff = field(default_factory=Backoff)
    rtsp_transport: Literal["tcp", "udp"] = "tcp"
    options: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.buffer_size < 1:
            raise ValueError(f"buffer_size must be >= 1, got {self.buffer_size}")
        if self.open_timeout <= 0 or self.read_timeout <= 0:
            raise ValueError("open_timeout and read_timeout must be positive")


@dataclass(frozen=True)
class StreamHealth:
    """A snapshot of a stream's counters.

    Attributes:
        connected: Whether a connection is open now.
        decoded: Frames decoded since the source started.
        frames_in: Frames kept by sampling and put into the buffer.
        frames_out: Frames handed to the consumer.
        dropped: Frames pushed out of the buffer unread because the consumer was slower.
            ``frames_in == frames_out + dropped + buffered``.
        reconnects: Connections opened after the first one.
        failures: Consecutive failed attempts right now (0 while frames flow).
        last_frame_time: UTC time the newest frame arrived.
        last_error: The most recent connection or read error, in words.
        finished: Whether the reader has stopped (closed, end of a file, or gave up).
    """

    connected: bool = False
    decoded: int = 0
    frames_in: int = 0
    frames_out: int = 0
    dropped: int = 0
    reconnects: int = 0
    failures: int = 0
    last_frame_time: datetime | None = None
    last_error: str | None = None
    finished: bool = False


class StreamSource(ClosingSource):
    """Frames from a live URL, or from a local video file played at real-time speed.

    Iterating (or `read`) starts a reader thread on first use and yields the newest buffered frames. For URLs the
    frames' ``timestamp`` is seconds since the source's first frame by the local monotonic clock (stream
    timestamps restart on reconnection), and ``index`` counts decoded frames across reconnections. For a file,
    ``timestamp`` comes from its presentation timestamps and its frames are released at the pace they would have
    been filmed. ``wall_time`` is always the UTC arrival time. For URLs the end of data counts as a lost
    connection; for a file it ends iteration.

    Iteration ends when the source is closed or a file ends; when the reader gave up (see `Backoff`), the buffered
    frames are yielded first, then `SourceError` is raised.
    """

    def __init__(
        self,
        location: str | os.PathLike[str],
        *,
        sampling: Sampling | None = None,
        settings: StreamSettings | None = None,
    ) -> None:
        """Sets the source up without connecting.

        Args:
            location: A stream URL, or a local video file to play at real-time speed.
            sampling: Which frames to keep; default `Sampling()` (2 fps by the frames' timestamps).
            settings: Buffering, timeouts and reconnection.

        Raises:
            SourceError: A local file is missing, empty or not a video.
        """
        self.source_id = str(location)
        self.sampling = sampling or Sampling()
        self.settings = settings or StreamSettings()
        self.is_file = not is_stream_url(location)
        self._info = SourceInfo(source_id=self.source_id, kind="stream", sampling=str(self.sampling))
        if self.is_file:
            self._info = _probe_file(Path(location), self._info)
        self._cond = threading.Condition()
        self._buffer: deque[Frame] = deque(maxlen=self.settings.buffer_size)
        self._health = StreamHealth()
        self._error: SourceError | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._selector = FrameSelector(self.sampling)
        self._clock_origin: float | None = None
        self._connections = 0

    def start(self) -> None:
        """Starts the reader thread (done by the first `read` or iteration); no-op once started."""
        with self._cond:
            if self._thread is not None or self._stop.is_set():
                return
            self._thread = threading.Thread(target=self._run, name=f"stream {self.source_id}", daemon=True)
            self._thread.start()

    def read(self, timeout: float | None = None) -> Frame | None:
        """The oldest buffered frame, waiting for one up to ``timeout`` seconds (None: until one comes).

        Returns:
            A frame, or None when the timeout passed or the source was closed or ended.

        Raises:
            SourceError: The reader gave up reconnecting and the buffer is empty.
        """
        self.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._buffer:
                if self._health.finished or self._stop.is_set():
                    if self._error is not None:
                        raise self._error
                    return None
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)
            self._health = replace(self._health, frames_out=self._health.frames_out + 1)
            return self._buffer.popleft()

    def __iter__(self) -> Iterator[Frame]:
        while (frame := self.read()) is not None:
            yield frame

    def health(self) -> StreamHealth:
        """A consistent snapshot of the counters."""
        with self._cond:
            return self._health

    def describe(self) -> SourceInfo:
        """What is known: a file's header, or the stream's size and codec once connected."""
        with self._cond:
            return self._info

    def count_hint(self) -> int | None:
        """For a file, the frames its sampling would yield (fewer if the consumer falls behind); else None."""
        return self.sampling.expected_count(self._info.duration, self._info.frame_count) if self.is_file else None

    def close(self) -> None:
        """Stops the reader thread and wakes any waiting reader; safe to call twice."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=max(self.settings.open_timeout, self.settings.read_timeout) + 1.0)

    # --- reader thread -------------------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._connect_until_done()
        except Exception as error:  # an unexpected failure must not vanish with the thread
            log.exception("%s: stream reader failed", self.source_id)
            self._error = SourceError(self.source_id, f"stream reader failed ({type(error).__name__}: {error})")
        finally:
            self._update(finished=True, connected=False)

    def _connect_until_done(self) -> None:
        failures = 0
        while not self._stop.is_set():
            delivered, problem = self._session()
            if self._stop.is_set():
                return
            if self.is_file:  # a file is played once: its end (or its damage) ends the source
                if problem is not None:
                    self._error = SourceError(self.source_id, problem)
                return
            failures = 1 if delivered else failures + 1
            reason = problem or "stream ended"
            self._update(failures=failures, last_error=reason)
            give_up = self.settings.backoff.give_up_after
            if give_up is not None and failures >= give_up:
                self._error = SourceError(
                    self.source_id, f"gave up after {failures} failed connection attempt(s): {reason}"
                )
                return
            delay = self.settings.backoff.delay(failures)
            log.warning("%s: connection lost (%s); retrying in %.1f s", self.source_id, reason, delay)
            self._stop.wait(delay)

    def _session(self) -> tuple[bool, str | None]:
        """One connection, decoded until it ends. Returns (delivered any frame, what went wrong if anything)."""
        try:
            container = _av.open_input(self.source_id, options=self._options(), timeout=self._timeouts())
            stream = _av.first_video_stream(container, self.source_id)
        except SourceError as error:
            return False, error.reason
        delivered = False
        try:
            _av.set_sampling(stream, self.sampling)
            self._connected(container, stream)
            for frame in self._decoded(container, stream):
                if self._stop.is_set():
                    break
                self._publish(frame, stream)
                delivered = True
            return delivered, None
        except av.error.FFmpegError as error:
            return delivered, _av.describe_av_error(error)
        finally:
            container.close()
            self._update(connected=False)

    def _decoded(self, container: av.container.InputContainer, stream: VideoStream) -> Iterator[VideoFrame]:
        """Decoded frames; a packet the decoder rejects is skipped (demuxing errors end the connection)."""
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.InvalidDataError as error:
                self._update(last_error=_av.describe_av_error(error))
                continue
            for frame in frames:
                if isinstance(frame, VideoFrame):
                    yield frame

    def _connected(self, container: av.container.InputContainer, stream: VideoStream) -> None:
        metadata = _av.stream_metadata(container, stream)
        if not self.is_file:
            metadata["duration"] = metadata["frame_count"] = None
        with self._cond:
            self._info = replace(self._info, **metadata)
            self._connections += 1
            self._health = replace(self._health, connected=True, reconnects=self._connections - 1)
        if self.is_file:
            self._clock_origin = None  # pace this playback from its first frame
            self._selector = FrameSelector(self.sampling)

    def _publish(self, frame: VideoFrame, stream: VideoStream) -> None:
        now = time.monotonic()
        timestamp = self._timestamp(frame, stream, now)
        index = self._health.decoded
        self._update(decoded=index + 1, failures=0)
        if not self._selector.accept(timestamp, bool(frame.key_frame)):
            return
        item = Frame(
            image=_av.to_bgr(frame),
            source_id=self.source_id,
            index=index,
            timestamp=timestamp,
            wall_time=datetime.now(UTC),
            keyframe=bool(frame.key_frame),
        )
        with self._cond:
            dropped = self._health.dropped + (1 if len(self._buffer) == self._buffer.maxlen else 0)
            self._buffer.append(item)
            self._health = replace(
                self._health,
                frames_in=self._health.frames_in + 1,
                dropped=dropped,
                last_frame_time=item.wall_time,
            )
            self._cond.notify_all()

    def _timestamp(self, frame: VideoFrame, stream: VideoStream, now: float) -> float:
        if not self.is_file:
            if self._clock_origin is None:
                self._clock_origin = now
            return now - self._clock_origin
        timestamp = _av.frame_seconds(frame, stream, stream.start_time) or 0.0
        if self._clock_origin is None:
            self._clock_origin = now - timestamp
        self._stop.wait(max(0.0, self._clock_origin + timestamp - time.monotonic()))  # real-time pace
        return timestamp

    def _update(self, **changes: object) -> None:
        with self._cond:
            self._health = replace(self._health, **changes)  # type: ignore[arg-type]
            if changes.get("finished"):
                self._cond.notify_all()

    def _options(self) -> dict[str, str]:
        options = dict(self.settings.options)
        if urlsplit(self.source_id).scheme.lower() in ("rtsp", "rtsps"):
            options.setdefault("rtsp_transport", self.settings.rtsp_transport)
        return options

    def _timeouts(self) -> tuple[float, float] | None:
        return None if self.is_file else (self.settings.open_timeout, self.settings.read_timeout)


def _probe_file(path: Path, info: SourceInfo) -> SourceInfo:
    _av.check_local_file(path)
    container = _av.open_input(str(path))
    try:
        return replace(info, **_av.stream_metadata(container, _av.first_video_stream(container, str(path))))
    finally:
        container.close()
