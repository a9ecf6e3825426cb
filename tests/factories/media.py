"""Tiny videos, photos with EXIF, and a local MJPEG server, all made in the test."""

from __future__ import annotations

import functools
import http.server
import io
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.stream import VideoStream
from PIL import Image

from factories.loopback import serve_loopback, serve_mjpeg, write_mjpeg_part

WIDTH, HEIGHT = 64, 48
CAR_VIDEO = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "videos" / "car-detection.mp4"


def grey_level(index: int) -> int:
    """The flat grey a factory frame number is painted with (distinct, far from each other after compression)."""
    return (index * 37) % 200 + 20


def make_video(
    path: Path,
    *,
    frames: int = 30,
    fps: int = 25,
    gop: int = 10,
    pts_ms: Sequence[int] | None = None,
    codec: str = "libx264",
    options: Mapping[str, str] | None = None,
    metadata: Mapping[str, str] | None = None,
    colour_bgr: tuple[int, int, int] | None = None,
) -> Path:
    """Encodes a small video whose frame ``i`` is flat ``grey_level(i)`` (or one BGR colour).

    Args:
        path: Output file; its suffix picks the container.
        frames: Number of frames (ignored when ``pts_ms`` is given).
        fps: Nominal rate; frames are spaced ``1/fps`` apart unless ``pts_ms`` gives their times.
        gop: Frames between keyframes.
        pts_ms: Presentation times in milliseconds, for variable-frame-rate files.
        codec: Encoder name.
        options: Container (muxer) options, e.g. ``{"movflags": "faststart"}``.
        metadata: Container metadata, e.g. ``{"creation_time": "..."}``.
        colour_bgr: Paint every frame this colour instead of grey levels.
    """
    times = list(pts_ms) if pts_ms is not None else [round(i * 1000 / fps) for i in range(frames)]
    container = av.open(str(path), "w", options=dict(options or {}))
    container.metadata.update(metadata or {})
    stream = container.add_stream(codec, rate=fps)
    assert isinstance(stream, VideoStream)
    stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    stream.codec_context.gop_size = gop
    stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
    if codec == "libx264":
        stream.codec_context.options = {"preset": "ultrafast", "bframes": "0", "sc_threshold": "0"}
    elif codec == "mpeg4":
        stream.codec_context.bit_rate = 2_000_000
    elif codec == "libx265":
        stream.codec_context.options = {"preset": "ultrafast", "x265-params": "bframes=0:log-level=none"}
    for index, millis in enumerate(times):
        pixels = np.empty((HEIGHT, WIDTH, 3), np.uint8)
        pixels[:] = colour_bgr if colour_bgr is not None else grey_level(index)
        frame = av.VideoFrame.from_ndarray(pixels, format="bgr24")
        frame.pts, frame.time_base = millis, Fraction(1, 1000)
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))
    container.close()
    return path


def truncate_copy(source: Path, target: Path, fraction: float = 0.5) -> Path:
    """Writes the first ``fraction`` of the source's bytes to the target."""
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * fraction)])
    return target


def make_photo(
    path: Path,
    *,
    size: tuple[int, int] = (40, 20),
    colour_rgb: tuple[int, int, int] = (255, 0, 0),
    taken: str | None = None,
    offset: str | None = None,
    gps: tuple[float, float] | None = None,
    heading: float | None = None,
    orientation: int | None = None,
) -> Path:
    """Writes a flat-colour photo with the given EXIF tags (Pillow picks the format from the suffix).

    Args:
        path: Output file.
        size: ``(width, height)`` before any orientation.
        colour_rgb: Fill colour.
        taken: DateTimeOriginal, ``"YYYY:MM:DD HH:MM:SS"``.
        offset: OffsetTimeOriginal, ``"+08:00"``.
        gps: Signed decimal ``(lat, lon)``, written as degrees/minutes/seconds with N/S/E/W references.
        heading: GPSImgDirection in degrees.
        orientation: EXIF Orientation (1-8).
    """
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    details = exif.get_ifd(0x8769)
    if taken is not None:
        details[0x9003] = taken
    if offset is not None:
        details[0x9011] = offset
    if gps is not None:
        position = exif.get_ifd(0x8825)
        position[1], position[2] = ("N" if gps[0] >= 0 else "S"), _dms(gps[0])
        position[3], position[4] = ("E" if gps[1] >= 0 else "W"), _dms(gps[1])
        if heading is not None:
            position[17] = heading
    Image.new("RGB", size, colour_rgb).save(path, exif=exif)
    return path


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round((value - degrees - minutes / 60) * 3600, 4)
    return float(degrees), float(minutes), seconds


def jpeg_bytes(index: int) -> bytes:
    pixels = np.full((HEIGHT, WIDTH, 3), grey_level(index), np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG")
    return buffer.getvalue()


@dataclass
class MjpegServer:
    """A multipart/x-mixed-replace JPEG server on 127.0.0.1, started and stopped by the test.

    Attributes:
        url: Where it serves.
        cut_first_after: The first connection is closed after this many frames (None: never cut).
        interval: Seconds between frames.
        connections: Connections accepted so far.
    """

    url: str = ""
    cut_first_after: int | None = None
    interval: float = 0.01
    connections: int = 0
    stopping: threading.Event = field(default_factory=threading.Event)


@contextmanager
def mjpeg_server(*, cut_first_after: int | None = None, interval: float = 0.01) -> Iterator[MjpegServer]:
    """Serves an endless MJPEG stream on a free loopback port until the block ends."""
    state = MjpegServer(cut_first_after=cut_first_after, interval=interval)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.connections += 1
            limit = state.cut_first_after if state.connections == 1 else None
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.end_headers()
            sent = 0
            try:
                while not state.stopping.is_set() and (limit is None or sent < limit):
                    write_mjpeg_part(self.wfile, jpeg_bytes(sent))
                    sent += 1
                    state.stopping.wait(state.interval)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client went away

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serve_mjpeg(Handler, state.stopping) as url:
        state.url = url
        yield state


def make_hls(folder: Path, *, frames: int = 40, fps: int = 25) -> Path:
    """Writes a VOD HLS playlist (``index.m3u8``) with 0.4 s MPEG-TS segments into the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    playlist = folder / "index.m3u8"
    container = av.open(str(playlist), "w", format="hls", options={"hls_time": "0.4", "hls_playlist_type": "vod"})
    stream = container.add_stream("libx264", rate=fps)
    assert isinstance(stream, VideoStream)
    stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    stream.codec_context.gop_size = 5
    stream.codec_context.options = {"preset": "ultrafast", "bframes": "0"}
    for index in range(frames):
        pixels = np.full((HEIGHT, WIDTH, 3), grey_level(index), np.uint8)
        container.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="bgr24")))
    container.mux(stream.encode(None))
    container.close()
    return playlist


@contextmanager
def http_folder(folder: Path) -> Iterator[str]:
    """Serves a folder's files over HTTP on a free loopback port; yields the base URL."""
    with serve_loopback(functools.partial(_QuietFileHandler, directory=str(folder))) as base_url:
        yield base_url


class _QuietFileHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass
