"""Watching live cameras: a worker per stream with reconnection, newest-frame buffers, the motion gate, health.

- `StreamManager` runs one `StreamWorker` per `StreamSpec`; streams come and go without a restart (`add`,
  `remove`, `update`, `sync`, `sync_from_db`), and `health()` gives each stream's `StreamStatus`.
- A stream's frames go to its `FrameHandler`, built by the manager's handler factory (``factory(spec) -> handler``).
- `load_stream_config` reads a YAML list of cameras; `service.streams.metrics.render_metrics` renders Prometheus
  text for ``/metrics``.
"""

from __future__ import annotations

from service.streams.config import StreamConfigError, load_stream_config, spec_from_mapping
from service.streams.manager import StreamManager, SyncResult
from service.streams.spec import FrameHandler, HandlerFactory, SpecError, StreamSpec, redact_url
from service.streams.worker import StreamManagerSettings, StreamState, StreamStatus, StreamWorker

__all__ = [
    "FrameHandler",
    "HandlerFactory",
    "SpecError",
    "StreamConfigError",
    "StreamManager",
    "StreamManagerSettings",
    "StreamSpec",
    "StreamState",
    "StreamStatus",
    "StreamWorker",
    "SyncResult",
    "load_stream_config",
    "redact_url",
    "spec_from_mapping",
]
