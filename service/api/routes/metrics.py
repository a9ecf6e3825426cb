"""``/metrics``: the watched streams' health and pipeline counts in the Prometheus text format.

Not public: a scraper authenticates like any machine, with an API token (``xiuhua tokens create``), e.g. in
``prometheus.yml``::

    scrape_configs:
      - job_name: xiuhua
        authorization: {type: Bearer, credentials_file: /etc/prometheus/xiuhua.token}
        static_configs: [{targets: ["xiuhua.example:8000"]}]

Series carry a ``stream`` label (the camera key), never the URL.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import generate_latest

from service.api.deps import UserDep
from service.api.routes.streams import StreamsDep
from service.pipeline.stream_setup import PipelineCollector, PipelineHandlers
from service.streams.metrics import METRICS_CONTENT_TYPE, metrics_registry

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
def metrics(user: UserDep, manager: StreamsDep) -> Response:
    """Per-stream frames in and out, drops, gating, lag, reconnects, state; detections, tracks and candidates."""
    registry = metrics_registry(manager)
    if isinstance(manager.handler_factory, PipelineHandlers):
        registry.register(PipelineCollector(manager.handler_factory))
    return Response(generate_latest(registry), media_type=METRICS_CONTENT_TYPE)
