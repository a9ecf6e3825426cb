"""Prometheus text for the streams: per-stream series from the manager's own registry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from factories.streams import RecordingFactory, ScriptedSource, scripted_frames, wait_until
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from service.streams import StreamManager, StreamManagerSettings, StreamSpec
from service.streams.metrics import METRICS_CONTENT_TYPE, render_metrics


def samples(text: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text.decode())
        for sample in family.samples
    }


def test_per_stream_series() -> None:
    now = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
    frames = scripted_frames([now - timedelta(seconds=age) for age in (0.5, 9.0, 0.25)])
    sources = {"cam-1": ScriptedSource(frames, ends=False), "cam-2": ScriptedSource([], ends=False)}
    manager = StreamManager(
        StreamManagerSettings(poll_s=0.05),
        RecordingFactory(),
        source_factory=lambda spec, settings: sources[spec.key],
        clock=lambda: now,
    )
    manager.add(StreamSpec(key="cam-1", url="rtsp://user:pw@10.0.0.1/main", kind="patrol", fps=None))
    manager.add(StreamSpec(key="cam-2", url="rtsp://10.0.0.2/main"))
    wait_until(lambda: manager.health()["cam-1"], lambda status: status.frames_out == 2 and status.dropped == 1)

    text = render_metrics(manager)
    manager.close()

    values = samples(text)
    assert values[("xiuhua_streams", ())] == 2
    assert values[("xiuhua_stream_frames_in_total", (("stream", "cam-1"),))] == 3
    assert values[("xiuhua_stream_frames_out_total", (("stream", "cam-1"),))] == 2
    assert values[("xiuhua_stream_dropped_frames_total", (("stream", "cam-1"),))] == 1
    assert values[("xiuhua_stream_gated_frames_total", (("stream", "cam-1"),))] == 0
    assert values[("xiuhua_stream_reconnects_total", (("stream", "cam-2"),))] == 0
    assert values[("xiuhua_stream_lag_seconds", (("stream", "cam-1"),))] == 0.25
    assert values[("xiuhua_stream_max_lag_seconds", (("stream", "cam-1"),))] == 9.0
    assert values[("xiuhua_stream_up", (("stream", "cam-1"),))] == 1
    assert values[("xiuhua_stream_state", (("state", "running"), ("stream", "cam-1")))] == 1
    last_arrival = (now - timedelta(seconds=0.25)).timestamp()
    assert values[("xiuhua_stream_last_frame_timestamp_seconds", (("stream", "cam-1"),))] == last_arrival
    assert b"pw" not in text  # no URL, no credentials in labels
    assert "text/plain" in METRICS_CONTENT_TYPE
    assert REGISTRY.get_sample_value("xiuhua_streams") is None  # the process-global registry is untouched
