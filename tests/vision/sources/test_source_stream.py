"""Live sources: a local MJPEG server (cut mid-way), a refused port, a file played at real-time speed.

Every wait is bounded by a deadline so a broken stream fails the test instead of hanging it.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from factories.media import HEIGHT, WIDTH, http_folder, make_hls, make_video, mjpeg_server

from vision.errors import SourceError
from vision.frame import Frame
from vision.sources import Backoff, Sampling, StreamHealth, StreamSettings, StreamSource, is_stream_url

DEADLINE_S = 20.0
FAST_RETRY = Backoff(initial=0.05, maximum=0.2)


def settings(**changes: object) -> StreamSettings:
    values: dict[str, object] = {"open_timeout": 5.0, "read_timeout": 5.0, "backoff": FAST_RETRY, "buffer_size": 500}
    values.update(changes)
    return StreamSettings(**values)  # type: ignore[arg-type]


def read_frames(source: StreamSource, count: int) -> list[Frame]:
    frames: list[Frame] = []
    deadline = time.monotonic() + DEADLINE_S
    while len(frames) < count and time.monotonic() < deadline:
        frame = source.read(timeout=0.5)
        if frame is not None:
            frames.append(frame)
    return frames


def wait_for(source: StreamSource, condition: Callable[[StreamHealth], bool]) -> StreamHealth:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        health = source.health()
        if condition(health):
            return health
        time.sleep(0.01)
    raise AssertionError(f"stream never reached the expected state: {source.health()}")


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("rtsp://127.0.0.1/cam1", True),
        ("http://127.0.0.1/live.m3u8", True),
        ("HTTPS://example.invalid/x.mjpg", True),
        ("videos/patrol.mp4", False),
        ("C:/videos/patrol.mp4", False),
    ],
)
def test_is_stream_url(location: str, expected: bool) -> None:
    assert is_stream_url(location) is expected


def test_backoff_doubles_up_to_the_maximum() -> None:
    backoff = Backoff(initial=0.5, maximum=3.0)
    assert [backoff.delay(failures) for failures in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    with pytest.raises(ValueError):
        Backoff(initial=0.0)
    with pytest.raises(ValueError):
        Backoff(give_up_after=0)


def test_mjpeg_stream_delivers_frames_and_health() -> None:
    with (
        mjpeg_server() as server,
        StreamSource(server.url, sampling=Sampling.every_frame(), settings=settings()) as source,
    ):
        frames = read_frames(source, 10)

        assert len(frames) == 10
        assert all(frame.image.shape == (HEIGHT, WIDTH, 3) for frame in frames)
        assert [frame.index for frame in frames] == list(range(10))
        assert all(b.timestamp >= a.timestamp for a, b in itertools.pairwise(frames))
        assert all(frame.wall_time is not None and frame.source_id == server.url for frame in frames)
        health = source.health()
        assert health.connected and health.frames_out == 10 and health.reconnects == 0
        assert health.last_frame_time is not None
        info = source.describe()
        assert (info.kind, info.codec, info.width, info.height) == ("stream", "mjpeg", WIDTH, HEIGHT)
        assert source.count_hint() is None
    assert source.health().finished and not source.health().connected


def test_reconnects_after_the_server_cuts_the_connection() -> None:
    with (
        mjpeg_server(cut_first_after=15) as server,
        StreamSource(server.url, sampling=Sampling.every_frame(), settings=settings()) as source,
    ):
        frames = read_frames(source, 40)

        assert len(frames) == 40  # more than the first connection ever sent
        health = wait_for(source, lambda health: health.reconnects >= 1)
        assert server.connections >= 2
        assert health.failures == 0  # frames flow again
        assert [frame.index for frame in frames] == list(range(40))  # counted across the reconnection


def test_hls_playlist_over_http(tmp_path: Path) -> None:
    make_hls(tmp_path / "hls", frames=40)

    with (
        http_folder(tmp_path / "hls") as base_url,
        StreamSource(f"{base_url}/index.m3u8", sampling=Sampling.every_frame(), settings=settings()) as source,
    ):
        frames = read_frames(source, 30)

        assert len(frames) == 30
        assert all(frame.image.shape == (HEIGHT, WIDTH, 3) for frame in frames)
        info = source.describe()
        assert (info.container, info.codec) == ("hls", "h264")


def test_slow_consumer_gets_the_newest_frame_and_drops_are_counted() -> None:
    with (
        mjpeg_server() as server,
        StreamSource(server.url, sampling=Sampling.every_frame(), settings=settings(buffer_size=1)) as source,
    ):
        first = read_frames(source, 1)[0]
        health = wait_for(source, lambda health: health.frames_in >= first.index + 11)
        newest = read_frames(source, 1)[0]

        assert newest.index >= first.index + 10
        health = source.health()
        assert health.dropped >= 9
        assert health.frames_in - health.frames_out - health.dropped in (0, 1)  # what is still buffered


def test_gives_up_after_repeated_refusals_and_names_the_url() -> None:
    url = f"http://127.0.0.1:{free_loopback_port()}/camera"
    source = StreamSource(url, settings=settings(backoff=Backoff(initial=0.01, maximum=0.05, give_up_after=3)))

    with pytest.raises(SourceError, match="gave up after 3") as caught:
        list(source)

    assert caught.value.source == url
    health = source.health()
    assert health.finished and health.failures == 3 and health.frames_in == 0
    assert health.last_error is not None
    source.close()


def test_close_wakes_a_blocked_reader() -> None:
    url = f"http://127.0.0.1:{free_loopback_port()}/camera"  # refused for ever: the reader never gets a frame
    source = StreamSource(url, settings=settings())
    results: list[list[Frame]] = []
    consumer = threading.Thread(target=lambda: results.append(list(source)), daemon=True)
    consumer.start()
    wait_for(source, lambda health: health.failures >= 1)

    source.close()
    consumer.join(timeout=DEADLINE_S)

    assert not consumer.is_alive()
    assert results == [[]]
    assert source.health().finished


def test_file_at_real_time_speed_yields_every_frame_then_ends(tmp_path: Path) -> None:
    path = make_video(tmp_path / "clip.mp4", frames=15, fps=25)

    with StreamSource(path, sampling=Sampling.every_frame(), settings=settings()) as source:
        assert source.count_hint() == 15
        assert source.describe().duration == pytest.approx(0.6, abs=0.05)
        frames = list(source)

    assert [frame.index for frame in frames] == list(range(15))
    assert [frame.timestamp for frame in frames] == pytest.approx([i / 25 for i in range(15)], abs=1e-3)
    health = source.health()
    assert health.finished and health.reconnects == 0 and health.dropped == 0


def test_missing_file_fails_at_once(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        StreamSource(tmp_path / "gone.mp4")
