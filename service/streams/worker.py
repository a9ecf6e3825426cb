"""One stream's worker: a thread that takes the newest frames from a `StreamSource`, gates them and feeds a handler.

The source's reader thread decodes continuously into a small buffer that keeps only the newest frames, so a slow
handler makes the source drop frames instead of falling behind. The worker additionally drops a frame that is older
than ``max_lag_s`` when it takes it (the handler was stuck), runs the motion gate, and hands the rest on. If the
source gives up reconnecting, the worker opens a new one after the same backoff; a file played at real-time speed
ends the worker when it ends.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal, Protocol

from service.streams.spec import FrameHandler, StreamSpec
from vision.errors import SourceError
from vision.frame import Frame
from vision.gate import GateSettings, MotionGate
from vision.sources import Backoff, StreamHealth, StreamSettings, StreamSource

log = logging.getLogger(__name__)

StreamState = Literal["starting", "running", "reconnecting", "failed", "ended", "stopped"]


@dataclass(frozen=True)
class StreamManagerSettings:
    """How every stream worker reads, buffers, gates and gives way.

    Attributes:
        stream: Connection, buffering and reconnection of each source. ``buffer_size`` is the number of newest
            frames waiting for the handler; older ones are dropped.
        gate: Motion-gate sensitivity for streams that use it; a stream's ``gate_ignore`` boxes are added.
        max_lag_s: A frame older than this (since it arrived) when the worker takes it is dropped unhandled.
        poll_s: Longest wait for a frame before the worker looks at its stop flag again.
        stop_timeout_s: How long `StreamManager.remove` waits for a worker to finish its current frame.
    """

    stream: StreamSettings = field(
        default_factory=lambda: StreamSettings(buffer_size=1, backoff=Backoff(initial=0.5, maximum=30.0))
    )
    gate: GateSettings = field(default_factory=GateSettings)
    max_lag_s: float = 2.0
    poll_s: float = 0.5
    stop_timeout_s: float = 15.0

    def __post_init__(self) -> None:
        if self.max_lag_s <= 0 or self.poll_s <= 0 or self.stop_timeout_s <= 0:
            raise ValueError("max_lag_s, poll_s and stop_timeout_s must be positive")


@dataclass(frozen=True)
class StreamStatus:
    """A snapshot of one stream's health.

    Attributes:
        key: The camera key.
        url: The stream URL with any password hidden.
        state: ``starting`` (not connected yet), ``running`` (connected, frames flow), ``reconnecting`` (lost,
            retrying with backoff), ``failed`` (the source gave up; a new one opens after a backoff), ``ended`` (a
            file reached its end), ``stopped`` (removed or closed).
        frames_in: Frames kept by sampling and put into the buffer.
        frames_out: Frames handed to the handler.
        dropped: Frames never handled because newer ones pushed them out of the buffer, or because they were older
            than ``max_lag_s`` when taken. ``frames_in - frames_out - gated - dropped`` are waiting or in hand.
        gated: Frames the motion gate skipped as unchanged.
        lag_s: For the latest frame the worker took: seconds from its arrival to the end of its handling (or to
            when it was gated or dropped). None before the first frame.
        max_lag_s: The largest ``lag_s`` so far.
        last_frame_time: UTC arrival time of the newest frame.
        reconnects: Connections opened after the first one.
        error: The most recent connection or handler error, in words (kept after recovery).
        handler_errors: Frames whose handler raised.
        decoded: Frames decoded before sampling.
    """

    key: str
    url: str
    state: StreamState
    frames_in: int = 0
    frames_out: int = 0
    dropped: int = 0
    gated: int = 0
    lag_s: float | None = None
    max_lag_s: float | None = None
    last_frame_time: datetime | None = None
    reconnects: int = 0
    error: str | None = None
    handler_errors: int = 0
    decoded: int = 0


class LiveSource(Protocol):
    """The part of `StreamSource` a worker uses (a test may pass a fake)."""

    def read(self, timeout: float | None = None) -> Frame | None: ...

    def health(self) -> StreamHealth: ...

    def close(self) -> None: ...


SourceFactory = Callable[[StreamSpec, StreamSettings], LiveSource]


def open_stream_source(spec: StreamSpec, settings: StreamSettings) -> LiveSource:
    """The default source: a `StreamSource` on the spec's URL with its sampling."""
    return StreamSource(spec.url, sampling=spec.sampling, settings=settings)


@dataclass
class _Totals:
    """Counters of sources already retired, plus the worker's own."""

    frames_in: int = 0
    dropped: int = 0
    decoded: int = 0
    reconnects: int = 0
    frames_out: int = 0
    gated: int = 0
    stale: int = 0
    handler_errors: int = 0
    lag_s: float | None = None
    max_lag_s: float | None = None
    last_frame_time: datetime | None = None
    error: str | None = None


class StreamWorker:
    """Reads one stream on its own thread until stopped; see the module docstring."""

    def __init__(
        self,
        spec: StreamSpec,
        handler: FrameHandler,
        settings: StreamManagerSettings,
        *,
        source_factory: SourceFactory = open_stream_source,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Prepares the worker; `start` launches its thread.

        Args:
            spec: The stream.
            handler: Receives the frames; closed by the worker's thread when it ends.
            settings: Buffering, gate and timing.
            source_factory: Opens the stream (tests pass fakes).
            clock: Current UTC time, for lag.
        """
        self.spec = spec
        self.handler = handler
        self.settings = settings
        self._source_factory = source_factory
        self._clock = clock
        gate_settings = replace(settings.gate, ignore_boxes=settings.gate.ignore_boxes + spec.gate_ignore)
        self._gate = MotionGate(gate_settings) if spec.gate_enabled else None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._totals = _Totals()
        self._source: LiveSource | None = None
        self._connected_once = False
        self._source_delivered = False  # only touched by the worker thread
        self._final_state: StreamState | None = None
        self._waiting_after_failure = False
        self._thread = threading.Thread(target=self._run, name=f"stream worker {spec.key}", daemon=True)

    def start(self) -> None:
        """Starts the worker thread."""
        self._thread.start()

    def request_stop(self) -> None:
        """Asks the worker to finish: closes the source, which wakes a waiting read."""
        self._stop.set()
        with self._lock:
            source = self._source
        if source is not None:
            source.close()

    def join(self, timeout: float | None = None) -> bool:
        """Waits for the worker thread to end; returns whether it did."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def status(self) -> StreamStatus:
        """A consistent snapshot of the counters (safe from any thread)."""
        with self._lock:
            totals = replace(self._totals)
            source = self._source
            state = self._state(source)
        health = source.health() if source is not None else StreamHealth()
        # A failing source's own error is the news; otherwise the latest the worker saw (handler or retired source).
        error = health.last_error if health.failures > 0 else (totals.error or health.last_error)
        return StreamStatus(
            key=self.spec.key,
            url=self.spec.safe_url,
            state=state,
            frames_in=totals.frames_in + health.frames_in,
            frames_out=totals.frames_out,
            dropped=totals.dropped + health.dropped + totals.stale,
            gated=totals.gated,
            lag_s=totals.lag_s,
            max_lag_s=totals.max_lag_s,
            last_frame_time=health.last_frame_time or totals.last_frame_time,
            reconnects=totals.reconnects + health.reconnects,
            error=error,
            handler_errors=totals.handler_errors,
            decoded=totals.decoded + health.decoded,
        )

    # --- worker thread -------------------------------------------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        outcome: Literal["stopped", "ended", "failed"] = "stopped"
        try:
            while not self._stop.is_set():
                outcome = self._one_source()
                if outcome != "failed":
                    break
                failures += 1
                delay = self.settings.stream.backoff.delay(failures)
                log.warning("stream %s: source failed (%s); reopening in %.1f s", self.spec.key, self._error(), delay)
                with self._lock:
                    self._waiting_after_failure = True
                self._stop.wait(delay)
                with self._lock:
                    self._waiting_after_failure = False
        except Exception as error:  # a bug must not vanish with the thread
            log.exception("stream %s: worker failed", self.spec.key)
            self._set_error(f"worker failed ({type(error).__name__}: {error})")
            outcome = "failed"
        finally:
            self._close_handler()
            with self._lock:
                self._final_state = "stopped" if self._stop.is_set() or outcome == "stopped" else outcome

    def _one_source(self) -> Literal["stopped", "ended", "failed"]:
        """Reads one source until it ends; returns ``"stopped"``, ``"ended"`` or ``"failed"``."""
        try:
            source = self._source_factory(self.spec, self.settings.stream)
        except SourceError as error:
            self._set_error(error.reason)
            return "failed"
        with self._lock:
            self._source = source
        if self._stop.is_set():  # stopped while opening: request_stop may have missed this source
            source.close()
        try:
            return self._drain(source)
        finally:
            source.close()
            self._retire(source)

    def _drain(self, source: LiveSource) -> Literal["stopped", "ended", "failed"]:
        while not self._stop.is_set():
            try:
                frame = source.read(timeout=self.settings.poll_s)
            except SourceError as error:
                self._set_error(error.reason)
                return "failed"
            if frame is not None:
                self._track_connection()
                self._process(frame)
            elif source.health().finished:
                return "stopped" if self._stop.is_set() else "ended"
        return "stopped"

    def _process(self, frame: Frame) -> None:
        arrived = frame.wall_time
        if arrived is not None and self._age(arrived) > self.settings.max_lag_s:
            self._finish(arrived, stale=True)
            return
        if self._gate is not None and not self._gate.check(frame).changed:
            self._finish(arrived, gated=True)
            return
        error: str | None = None
        try:
            self.handler.handle(replace(frame, source_id=self.spec.key))
        except Exception as failure:
            log.exception("stream %s: handler failed on frame %d", self.spec.key, frame.index)
            error = f"handler failed ({type(failure).__name__}: {failure})"
        self._finish(arrived, handled=True, error=error)

    def _finish(
        self,
        arrived: datetime | None,
        *,
        stale: bool = False,
        gated: bool = False,
        handled: bool = False,
        error: str | None = None,
    ) -> None:
        lag = self._age(arrived) if arrived is not None else None
        with self._lock:
            totals = self._totals
            totals.stale += stale
            totals.gated += gated
            totals.frames_out += handled
            if error is not None:
                totals.handler_errors += 1
                totals.error = error
            if lag is not None:
                totals.lag_s = lag
                totals.max_lag_s = lag if totals.max_lag_s is None else max(totals.max_lag_s, lag)

    def _age(self, arrived: datetime) -> float:
        return max(0.0, (self._clock() - arrived).total_seconds())

    def _track_connection(self) -> None:
        """Counts a new source's first frame as a reconnection when an earlier source had connected."""
        if self._source_delivered:
            return
        self._source_delivered = True
        with self._lock:
            if self._connected_once:
                self._totals.reconnects += 1
            self._connected_once = True

    def _retire(self, source: LiveSource) -> None:
        health = source.health()
        with self._lock:
            totals = self._totals
            totals.frames_in += health.frames_in
            # Frames still buffered when a source is retired are never handled: count them as dropped.
            totals.dropped += health.frames_in - health.frames_out
            totals.decoded += health.decoded
            totals.reconnects += health.reconnects
            totals.last_frame_time = health.last_frame_time or totals.last_frame_time
            totals.error = health.last_error or totals.error
            self._source = None
        self._source_delivered = False

    def _state(self, source: LiveSource | None) -> StreamState:
        if self._final_state is not None:
            return self._final_state
        if self._stop.is_set():
            return "stopped"
        if self._waiting_after_failure or source is None:
            return "failed" if self._waiting_after_failure else "starting"
        health = source.health()
        if health.connected and health.failures == 0:
            return "running"
        return "reconnecting" if self._connected_once or health.failures > 0 else "starting"

    def _set_error(self, reason: str) -> None:
        with self._lock:
            self._totals.error = reason

    def _error(self) -> str | None:
        with self._lock:
            return self._totals.error

    def _close_handler(self) -> None:
        try:
            self.handler.close()
        except Exception:
            log.exception("stream %s: handler close failed", self.spec.key)
