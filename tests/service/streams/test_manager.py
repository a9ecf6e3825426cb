"""The stream manager against local MJPEG servers: live add/remove, cuts, slow handlers, the gate, errors.

Every wait is bounded by a deadline, so a broken stream fails the test instead of hanging it.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from factories.media import make_video, mjpeg_server
from factories.streams import (
    RecordingFactory,
    ScriptedSource,
    frame_server,
    scripted_frames,
    wait_until,
)

from service.errors import Conflict, NotFound
from service.streams import StreamManager, StreamManagerSettings, StreamSpec
from vision.sources import Backoff, StreamSettings

FAST = StreamManagerSettings(
    stream=StreamSettings(
        buffer_size=1, open_timeout=5.0, read_timeout=5.0, backoff=Backoff(initial=0.05, maximum=0.2)
    ),
    poll_s=0.1,
    stop_timeout_s=10.0,
)


def every_frame(key: str, url: str, **changes: object) -> StreamSpec:
    values: dict[str, object] = {"kind": "patrol", "fps": None, **changes}
    return StreamSpec(key=key, url=url, **values)  # type: ignore[arg-type]


def test_frames_flow_with_the_camera_key_and_health_moves() -> None:
    factory = RecordingFactory()
    with mjpeg_server() as server, StreamManager(FAST, factory) as manager:
        manager.add(every_frame("cam-1", server.url))
        status = wait_until(lambda: manager.health()["cam-1"], lambda status: status.frames_out >= 10)

        handler = factory.handlers["cam-1"]
        assert status.state == "running" and status.url == server.url
        assert status.frames_in >= status.frames_out >= 10 and status.decoded >= status.frames_in
        assert status.last_frame_time is not None and status.lag_s is not None and status.lag_s >= 0
        assert status.reconnects == 0 and status.gated == 0
        assert {frame.source_id for frame in handler.frames} == {"cam-1"}  # the key, never the URL
        assert all(b.index > a.index for a, b in itertools.pairwise(handler.frames))
        later = wait_until(lambda: manager.health()["cam-1"], lambda later: later.frames_out > status.frames_out)
        assert later.frames_in > status.frames_in

        final = manager.remove("cam-1")

        assert final.state == "stopped"
        assert handler.closed.is_set()
        assert manager.health() == {}


def test_streams_are_added_and_removed_while_others_run() -> None:
    factory = RecordingFactory()
    with mjpeg_server() as first, mjpeg_server() as second, StreamManager(FAST, factory) as manager:
        manager.add(every_frame("a", first.url))
        wait_until(lambda: manager.health()["a"], lambda status: status.frames_out >= 5)
        manager.add(every_frame("b", second.url))
        wait_until(lambda: manager.health()["b"], lambda status: status.frames_out >= 5)

        manager.remove("a")
        handled_by_a = len(factory.handlers["a"].frames)
        before = manager.health()["b"].frames_out
        after = wait_until(lambda: manager.health()["b"], lambda status: status.frames_out >= before + 5)

        assert set(manager.health()) == {"b"}
        assert factory.handlers["a"].closed.is_set() and not factory.handlers["b"].closed.is_set()
        assert len(factory.handlers["a"].frames) == handled_by_a  # nothing after removal
        assert after.state == "running"
        manager.add(every_frame("a", first.url))  # the key is free again
        wait_until(lambda: manager.health()["a"], lambda status: status.frames_out >= 1)


def test_a_cut_stream_reconnects_and_resumes() -> None:
    factory = RecordingFactory()
    with mjpeg_server(cut_first_after=15) as server, StreamManager(FAST, factory) as manager:
        manager.add(every_frame("cam", server.url))

        status = wait_until(
            lambda: manager.health()["cam"], lambda status: status.reconnects >= 1 and status.frames_out >= 25
        )

        assert server.connections >= 2
        assert status.state == "running"
        indices = [frame.index for frame in factory.handlers["cam"].frames]
        assert indices == sorted(indices) and len(set(indices)) == len(indices)  # counted across the reconnection
        assert status.error is not None  # the cut is remembered after recovery
        waiting = status.frames_in - status.frames_out - status.gated - status.dropped
        assert 0 <= waiting <= FAST.stream.buffer_size + 1  # every frame accounted for across the reconnection


def test_a_camera_down_for_a_while_is_retried_with_backoff_then_resumes() -> None:
    factory = RecordingFactory()
    with frame_server() as server, StreamManager(FAST, factory) as manager:
        manager.add(every_frame("cam", server.url))
        wait_until(lambda: manager.health()["cam"], lambda status: status.frames_out >= 3)

        server.down.set()
        server.cut()
        wait_until(lambda: manager.health()["cam"], lambda status: status.state == "reconnecting")
        down = manager.health()["cam"]
        server.down.clear()
        resumed = wait_until(lambda: manager.health()["cam"], lambda status: status.frames_out >= down.frames_out + 3)

        assert down.error is not None
        assert resumed.state == "running" and resumed.reconnects >= 1


def test_a_slow_handler_gets_the_newest_frames_and_the_rest_are_dropped() -> None:
    factory = RecordingFactory(delay=0.05)
    with mjpeg_server(interval=0.005) as server, StreamManager(FAST, factory) as manager:
        manager.add(every_frame("cam", server.url))

        status = wait_until(lambda: manager.health()["cam"], lambda status: status.frames_out >= 20)

        indices = [frame.index for frame in factory.handlers["cam"].frames]
        assert status.dropped >= 20
        assert any(b - a > 1 for a, b in itertools.pairwise(indices))  # it skipped ahead, not queued up
        waiting = status.frames_in - status.frames_out - status.gated - status.dropped
        assert 0 <= waiting <= FAST.stream.buffer_size + 1  # buffered, plus the one in hand
        assert status.max_lag_s is not None and status.max_lag_s < FAST.max_lag_s  # bounded, not growing


def test_frames_older_than_max_lag_are_dropped_unhandled() -> None:
    now = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
    arrivals = [now - timedelta(seconds=age) for age in (0.1, 5.0, 0.2, 3.0, 0.0)]
    sources = iter([ScriptedSource(scripted_frames(arrivals))])
    factory = RecordingFactory()
    manager = StreamManager(FAST, factory, source_factory=lambda spec, settings: next(sources), clock=lambda: now)
    manager.add(every_frame("cam", "rtsp://example.invalid/x"))

    status = wait_until(lambda: manager.health()["cam"], lambda status: status.state == "ended")
    manager.close()

    assert [frame.index for frame in factory.handlers["cam"].frames] == [0, 2, 4]
    assert (status.frames_in, status.frames_out, status.dropped) == (5, 3, 2)
    assert status.lag_s == 0.0 and status.max_lag_s == 5.0
    assert factory.handlers["cam"].closed.is_set()


def test_the_gate_skips_a_static_view_and_is_off_for_patrol_cameras() -> None:
    factory = RecordingFactory()
    with frame_server(interval=0.01) as server, StreamManager(FAST, factory) as manager:
        manager.add(StreamSpec(key="fixed", url=server.url, kind="fixed", fps=None))
        manager.add(StreamSpec(key="patrol", url=server.url, kind="patrol", fps=None))

        fixed = wait_until(lambda: manager.health()["fixed"], lambda status: status.gated >= 20)
        patrol = wait_until(lambda: manager.health()["patrol"], lambda status: status.frames_out >= 20)

        assert fixed.frames_out <= 2  # the first frame (and at most one forced pass)
        assert patrol.gated == 0


def test_a_failing_handler_is_counted_and_the_stream_goes_on() -> None:
    factory = RecordingFactory(fail_every=3)
    with mjpeg_server() as server, StreamManager(FAST, factory) as manager:
        manager.add(every_frame("cam", server.url))

        status = wait_until(lambda: manager.health()["cam"], lambda status: status.frames_out >= 10)

        assert status.handler_errors >= 3 and status.state == "running"
        assert status.error is not None and "boom" in status.error


def test_update_restarts_only_on_change_and_errors_are_named() -> None:
    factory = RecordingFactory()
    with mjpeg_server() as server, StreamManager(FAST, factory) as manager:
        spec = every_frame("cam", server.url)
        manager.add(spec)
        with pytest.raises(Conflict, match="cam"):
            manager.add(spec)

        assert manager.update(spec) is False
        assert manager.update(StreamSpec(key="cam", url=server.url, kind="patrol", fps=5.0)) is True
        assert manager.specs()["cam"].fps == 5.0
        assert len(factory.built) == 2 and factory.built[0].closed.is_set()
        with pytest.raises(NotFound, match="nothing"):
            manager.remove("nothing")
        with pytest.raises(NotFound):
            manager.update(every_frame("nothing", server.url))
    with pytest.raises(Conflict, match="closed"):
        manager.add(spec)
    assert factory.built[1].closed.is_set()


def test_sync_matches_one_origin_and_leaves_the_others() -> None:
    factory = RecordingFactory()
    with mjpeg_server() as server, StreamManager(FAST, factory) as manager:
        manager.add(every_frame("manual", server.url))
        first = manager.sync([every_frame("a", server.url), every_frame("b", server.url)], origin="config")
        second = manager.sync(
            [every_frame("b", server.url, fps=1.0), every_frame("manual", server.url)], origin="config"
        )

        assert first.added == ("a", "b") and first.removed == ()
        assert second.removed == ("a",) and second.updated == ("b",) and second.added == ()
        assert second.skipped == {"manual": "already watched from manual"}
        assert set(manager.health()) == {"b", "manual"}


def test_a_missing_file_fails_and_is_retried_and_a_file_ends(tmp_path: Path) -> None:
    factory = RecordingFactory()
    clip = make_video(tmp_path / "clip.mp4", frames=10, fps=25)
    with StreamManager(FAST, factory) as manager:
        manager.add(every_frame("gone", str(tmp_path / "gone.mp4")))
        manager.add(every_frame("clip", str(clip)))

        gone = wait_until(lambda: manager.health()["gone"], lambda status: status.state == "failed")
        ended = wait_until(lambda: manager.health()["clip"], lambda status: status.state == "ended")

        assert gone.error is not None and "does not exist" in gone.error
        assert ended.frames_out == 10 and factory.handlers["clip"].closed.is_set()
