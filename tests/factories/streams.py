"""Stream test helpers: an MJPEG server the test can cut and take down, a scripted fake source, a recording handler."""

from __future__ import annotations

import http.server
import io
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np
from PIL import Image

from factories.loopback import serve_mjpeg, write_mjpeg_part
from service.streams import StreamSpec, StreamStatus
from vision.frame import Frame
from vision.sources import StreamHealth

DEADLINE_S = 20.0


def jpeg(pixels: np.ndarray) -> bytes:
    """JPEG bytes of a BGR or grey image."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels[..., ::-1]) if pixels.ndim == 3 else pixels).save(buffer, "JPEG")
    return buffer.getvalue()


def static_scene(width: int = 96, height: int = 64) -> bytes:
    """One fixed street-like picture: every frame of a static camera is this."""
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[: height // 3] = (210, 190, 180)
    pixels[height // 3 :] = (70, 70, 75)
    pixels[height // 3 : height * 2 // 3, 10 : width // 2] = (60, 140, 170)
    return jpeg(pixels)


@dataclass
class FrameServer:
    """A multipart MJPEG server on 127.0.0.1 whose connections the test can cut, and which it can take down.

    Attributes:
        url: Where it serves.
        connections: GET requests answered with a stream so far.
        sent: Frames sent over all connections.
        down: While set, requests get 503 (a camera rebooting).
    """

    frame: Callable[[int], bytes]
    interval: float
    url: str = ""
    connections: int = 0
    sent: int = 0
    down: threading.Event = field(default_factory=threading.Event)
    stopping: threading.Event = field(default_factory=threading.Event)
    generation: int = 0

    def cut(self) -> None:
        """Closes every open connection (new ones are accepted)."""
        self.generation += 1


@contextmanager
def frame_server(
    frame: Callable[[int], bytes] = lambda index: static_scene(), interval: float = 0.02
) -> Iterator[FrameServer]:
    """Serves ``frame(n)`` as the n-th JPEG of an endless MJPEG stream until the block ends."""
    state = FrameServer(frame=frame, interval=interval)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if state.down.is_set():
                self.send_error(503)
                return
            state.connections += 1
            generation = state.generation
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.end_headers()
            try:
                while not state.stopping.is_set() and state.generation == generation:
                    write_mjpeg_part(self.wfile, state.frame(state.sent))
                    state.sent += 1
                    state.stopping.wait(state.interval)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serve_mjpeg(Handler, state.stopping) as url:
        state.url = url
        yield state


class RecordingHandler:
    """Keeps what it was given; optionally slow, or failing on chosen frames."""

    def __init__(self, spec: StreamSpec, *, delay: float = 0.0, fail_every: int = 0) -> None:
        self.spec = spec
        self.delay = delay
        self.fail_every = fail_every
        self.frames: list[Frame] = []
        self.lags: list[float] = []
        self.closed = threading.Event()
        self.handled = threading.Semaphore(0)

    def handle(self, frame: Frame) -> None:
        if self.delay:
            time.sleep(self.delay)
        self.frames.append(replace(frame, image=frame.image[:1, :1].copy()))  # keep little memory
        self.handled.release()
        if self.fail_every and len(self.frames) % self.fail_every == 0:
            raise RuntimeError(f"boom on frame {frame.index}")

    def close(self) -> None:
        self.closed.set()


class RecordingFactory:
    """A handler factory that remembers every handler it built, by key (the latest one per key)."""

    def __init__(self, **options: float) -> None:
        self.options = options
        self.handlers: dict[str, RecordingHandler] = {}
        self.built: list[RecordingHandler] = []

    def __call__(self, spec: StreamSpec) -> RecordingHandler:
        handler = RecordingHandler(spec, **self.options)  # type: ignore[arg-type]
        self.handlers[spec.key] = handler
        self.built.append(handler)
        return handler


class ScriptedSource:
    """A fake live source handing out given frames, then ending (like a file) or waiting (like a live camera)."""

    def __init__(self, frames: list[Frame], *, ends: bool = True) -> None:
        self.frames = deque(frames)
        self.ends = ends
        self._health = StreamHealth(connected=True)
        self._closed = threading.Event()

    def read(self, timeout: float | None = None) -> Frame | None:
        if self.frames and not self._closed.is_set():
            frame = self.frames.popleft()
            self._health = replace(
                self._health,
                decoded=self._health.decoded + 1,
                frames_in=self._health.frames_in + 1,
                frames_out=self._health.frames_out + 1,
                last_frame_time=frame.wall_time,
            )
            return frame
        if self.ends:
            self._health = replace(self._health, finished=True, connected=False)
        else:
            self._closed.wait(timeout)
        return None

    def health(self) -> StreamHealth:
        return replace(self._health, finished=self._health.finished or self._closed.is_set())

    def close(self) -> None:
        self._closed.set()


def scripted_frames(times: list[datetime], *, key: str = "cam") -> list[Frame]:
    """Flat frames that arrived at the given wall times, one second of stream time apart."""
    return [
        Frame(
            image=np.full((8, 8, 3), 10 * index, np.uint8),
            source_id=key,
            index=index,
            timestamp=float(index),
            wall_time=t,
        )
        for index, t in enumerate(times)
    ]


def wait_until(read: Callable[[], StreamStatus], condition: Callable[[StreamStatus], bool]) -> StreamStatus:
    """Polls a status until the condition holds; fails the test after a deadline instead of hanging."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        status = read()
        if condition(status):
            return status
        time.sleep(0.02)
    raise AssertionError(f"stream never reached the expected state: {read()}")
