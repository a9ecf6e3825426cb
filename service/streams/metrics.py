"""Prometheus metrics of the stream workers, on a registry of their own (never the process-global one).

Mount on the API app (the app factory owns the manager)::

    from fastapi import Response
    from service.streams.metrics import METRICS_CONTENT_TYPE, render_metrics

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(render_metrics(manager), media_type=METRICS_CONTENT_TYPE)

Every series has a ``stream`` label (the camera key). Counters restart from zero when a stream is updated or re-added;
Prometheus' ``rate()`` handles that as a counter reset.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from service.streams.manager import StreamManager

METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST
STATES = ("starting", "running", "reconnecting", "failed", "ended", "stopped")

COUNTERS: tuple[tuple[str, str, str], ...] = (
    ("xiuhua_stream_frames_in", "Frames kept by sampling and buffered.", "frames_in"),
    ("xiuhua_stream_frames_out", "Frames handed to the pipeline.", "frames_out"),
    ("xiuhua_stream_dropped_frames", "Frames dropped unhandled: pushed out by newer ones, or too old.", "dropped"),
    ("xiuhua_stream_gated_frames", "Frames skipped by the motion gate as unchanged.", "gated"),
    ("xiuhua_stream_reconnects", "Connections opened after the first one.", "reconnects"),
    ("xiuhua_stream_handler_errors", "Frames whose handler raised.", "handler_errors"),
    ("xiuhua_stream_decoded_frames", "Frames decoded before sampling.", "decoded"),
)


class StreamCollector(Collector):
    """Reads `StreamManager.health` at each scrape, so the numbers are never out of step with the workers."""

    def __init__(self, manager: StreamManager) -> None:
        self.manager = manager

    def collect(self) -> Iterator[Metric]:
        """One family per measure, one sample per stream."""
        health = self.manager.health()
        streams = GaugeMetricFamily("xiuhua_streams", "Streams being watched.")
        streams.add_metric([], len(health))
        yield streams
        up = GaugeMetricFamily("xiuhua_stream_up", "1 while connected and frames flow.", labels=["stream"])
        state = GaugeMetricFamily("xiuhua_stream_state", "1 for the current state.", labels=["stream", "state"])
        lag = GaugeMetricFamily(
            "xiuhua_stream_lag_seconds", "Latest frame: seconds from arrival to handled.", labels=["stream"]
        )
        max_lag = GaugeMetricFamily("xiuhua_stream_max_lag_seconds", "Largest lag so far.", labels=["stream"])
        last = GaugeMetricFamily(
            "xiuhua_stream_last_frame_timestamp_seconds", "Unix time the newest frame arrived.", labels=["stream"]
        )
        counters = {attribute: CounterMetricFamily(name, text, labels=["stream"]) for name, text, attribute in COUNTERS}
        for key, status in health.items():
            up.add_metric([key], 1.0 if status.state == "running" else 0.0)
            for name in STATES:
                state.add_metric([key, name], 1.0 if status.state == name else 0.0)
            lag.add_metric([key], _seconds(status.lag_s))
            max_lag.add_metric([key], _seconds(status.max_lag_s))
            last.add_metric([key], status.last_frame_time.timestamp() if status.last_frame_time else math.nan)
            for attribute, family in counters.items():
                family.add_metric([key], float(getattr(status, attribute)))
        yield from (up, state, lag, max_lag, last)
        yield from counters.values()


def metrics_registry(manager: StreamManager) -> CollectorRegistry:
    """A fresh registry holding the manager's stream metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StreamCollector(manager))
    return registry


def render_metrics(manager: StreamManager) -> bytes:
    """The manager's metrics in the Prometheus text format (serve with ``METRICS_CONTENT_TYPE``)."""
    return generate_latest(metrics_registry(manager))


def _seconds(value: float | None) -> float:
    return math.nan if value is None else value
