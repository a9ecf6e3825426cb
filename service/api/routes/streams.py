"""Watched camera streams: health for everyone logged in; add, change, remove and sync for admins.

The routes work on the `StreamManager` given to ``create_app(..., streams=manager)`` (``xiuhua serve --watch``);
a server started without one answers 503 saying so. Streams added here last until removed or the server stops;
a lasting one is a camera with a ``stream_url`` (``POST /api/cameras``), picked up by ``POST /api/streams/sync``
or the server's periodic sync.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from service.api.deps import AdminDep, SessionDep, UserDep
from service.api.errors import ApiError
from service.api.schemas.common import error_responses
from service.api.schemas.streams import (
    StreamCreate,
    StreamPipelinePublic,
    StreamPublic,
    StreamsPublic,
    StreamSyncPublic,
    StreamUpdate,
)
from service.errors import Invalid, NotFound
from service.pipeline.stream_setup import PipelineHandlers
from service.streams import SpecError, StreamManager, StreamSpec, StreamStatus

router = APIRouter(prefix="/api/streams", tags=["streams"], responses=error_responses(401, 403, 503))


class StreamsUnavailable(ApiError):
    """This server watches no streams (it was started without a stream manager)."""

    status = 503

    def __init__(self) -> None:
        super().__init__("this server does not watch camera streams; start it with 'xiuhua serve --watch'")


def get_streams(request: Request) -> StreamManager:
    """The app's stream manager.

    Raises:
        StreamsUnavailable: The app was built without one.
    """
    manager: StreamManager | None = getattr(request.app.state, "streams", None)
    if manager is None:
        raise StreamsUnavailable()
    return manager


StreamsDep = Annotated[StreamManager, Depends(get_streams)]


@router.get("", response_model=StreamsPublic)
def list_streams(user: UserDep, manager: StreamsDep) -> StreamsPublic:
    """Every watched stream with its health (frames in and out, lag, last frame, reconnects) and pipeline counts."""
    health = manager.health()
    specs = manager.specs()
    items = [_public(manager, specs[key], status) for key, status in health.items() if key in specs]
    return StreamsPublic(items=items, count=len(items))


@router.post("/sync", response_model=StreamSyncPublic)
def sync_streams(admin: AdminDep, manager: StreamsDep, session: SessionDep) -> StreamSyncPublic:
    """Watch the enabled cameras with a stream URL now: start new ones, restart changed ones, stop the rest."""
    result = manager.sync_from_db(session)
    return StreamSyncPublic(
        added=list(result.added),
        updated=list(result.updated),
        removed=list(result.removed),
        skipped=dict(result.skipped),
    )


@router.get("/{key}", response_model=StreamPublic, responses=error_responses(404))
def get_stream(key: str, user: UserDep, manager: StreamsDep) -> StreamPublic:
    """One watched stream."""
    return _public(manager, _spec(manager, key), _status(manager, key))


@router.post("", response_model=StreamPublic, status_code=201, responses=error_responses(409, 422))
def add_stream(body: StreamCreate, admin: AdminDep, manager: StreamsDep) -> StreamPublic:
    """Start watching a stream (until removed or the server stops)."""
    spec = _checked(
        lambda: StreamSpec(
            key=body.key,
            url=body.url,
            kind=body.kind,
            fps=body.fps,
            gate=body.gate,
            gate_ignore=tuple((box[0], box[1], box[2], box[3]) for box in body.gate_ignore),
        )
    )
    manager.add(spec, origin="api")
    return _public(manager, spec, _status(manager, spec.key))


@router.patch("/{key}", response_model=StreamPublic, responses=error_responses(404, 422))
def update_stream(key: str, body: StreamUpdate, admin: AdminDep, manager: StreamsDep) -> StreamPublic:
    """Change a stream; its worker restarts when anything changed. A camera's stream is reset by the next sync."""
    current = _spec(manager, key)
    changes = body.model_dump(exclude_unset=True)
    if "gate_ignore" in changes:
        changes["gate_ignore"] = tuple(tuple(box) for box in changes["gate_ignore"])
    spec = _checked(lambda: StreamSpec(**{**_fields(current), **changes}))
    manager.update(spec)
    return _public(manager, spec, _status(manager, key))


@router.delete("/{key}", response_model=StreamPublic, responses=error_responses(404))
def remove_stream(key: str, admin: AdminDep, manager: StreamsDep) -> StreamPublic:
    """Stop watching a stream; answers its last health. A camera's stream comes back at the next sync unless the
    camera is disabled or loses its stream URL."""
    spec = _spec(manager, key)
    pipeline = _pipeline(manager, key)
    status = manager.remove(key)
    return _public(manager, spec, status, pipeline=pipeline)


def _spec(manager: StreamManager, key: str) -> StreamSpec:
    spec = manager.specs().get(key)
    if spec is None:
        raise NotFound(f"no stream {key!r} is watched", field="key")
    return spec


def _status(manager: StreamManager, key: str) -> StreamStatus:
    status = manager.health().get(key)
    if status is None:  # removed meanwhile
        raise NotFound(f"no stream {key!r} is watched", field="key")
    return status


def _checked(build: Callable[[], StreamSpec]) -> StreamSpec:
    try:
        return build()
    except SpecError as error:
        raise Invalid(error.reason, field=error.field) from None


def _fields(spec: StreamSpec) -> dict[str, object]:
    return {
        "key": spec.key,
        "url": spec.url,
        "kind": spec.kind,
        "fps": spec.fps,
        "gate": spec.gate,
        "gate_ignore": spec.gate_ignore,
    }


def _pipeline(manager: StreamManager, key: str) -> StreamPipelinePublic | None:
    factory = manager.handler_factory
    if not isinstance(factory, PipelineHandlers):
        return None
    stats = factory.stats().get(key)
    source = factory.sources().get(key)
    if stats is None or source is None:
        return None
    return StreamPipelinePublic(source=source, **asdict(stats))


def _public(
    manager: StreamManager,
    spec: StreamSpec,
    status: StreamStatus,
    *,
    pipeline: StreamPipelinePublic | None = None,
) -> StreamPublic:
    return StreamPublic(
        key=spec.key,
        url=status.url,
        kind=spec.kind,
        fps=spec.fps,
        gate=spec.gate_enabled,
        gate_ignore=[list(box) for box in spec.gate_ignore],
        state=status.state,
        frames_in=status.frames_in,
        frames_out=status.frames_out,
        dropped=status.dropped,
        gated=status.gated,
        lag_s=status.lag_s,
        max_lag_s=status.max_lag_s,
        last_frame_time=status.last_frame_time,
        reconnects=status.reconnects,
        error=status.error,
        handler_errors=status.handler_errors,
        decoded=status.decoded,
        pipeline=pipeline or _pipeline(manager, spec.key),
    )
