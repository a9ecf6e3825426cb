"""Watched camera streams: their health, and changes made while the server runs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, model_validator

from service.api.schemas.cameras import KEY_PATTERN, CameraKind
from service.api.schemas.common import InputModel, PublicModel

StreamState = Annotated[str, Field(description="starting, running, reconnecting, failed, ended or stopped")]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
IgnoreBox = Annotated[list[Fraction], Field(min_length=4, max_length=4, description="x1, y1, x2, y2 as fractions")]
Fps = Annotated[float, Field(gt=0, le=120, description="Frames per second handed on; null: every decoded frame.")]


class StreamCreate(InputModel):
    """A stream to watch now, until removed or the server stops (for a lasting one, set the camera's stream_url)."""

    key: str = Field(min_length=1, max_length=128, pattern=KEY_PATTERN, description="The camera's key.")
    url: str = Field(min_length=1, max_length=1024, description="rtsp://, http(s):// MJPEG or HLS.")
    kind: CameraKind = "fixed"
    fps: Fps | None = 2.0
    gate: bool | None = Field(default=None, description="Motion gate; null: on for fixed cameras only.")
    gate_ignore: list[IgnoreBox] = Field(default_factory=list, description="Regions the gate never compares.")


class StreamUpdate(InputModel):
    """Changes to a watched stream (its worker restarts); fields left out stay as they are."""

    url: str | None = Field(default=None, min_length=1, max_length=1024)
    kind: CameraKind | None = None
    fps: Fps | None = None
    gate: bool | None = None
    gate_ignore: list[IgnoreBox] | None = None

    @model_validator(mode="after")
    def _required_fields_not_cleared(self) -> StreamUpdate:
        for name in ("url", "kind", "gate_ignore"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class StreamPipelinePublic(PublicModel):
    """What the pipeline made of a stream's frames since its worker (re)started."""

    source: str = Field(description="The source its sightings are stored under (camera key @ start).")
    frames: int
    detections: int
    open_tracks: int
    ended: int
    reported_open: int = Field(description="Tracks recorded while still in view (long stays).")
    opened: int
    attached: int
    dropped: int
    extended: int
    errors: int


class StreamPublic(PublicModel):
    """One watched stream: what it is and how it is doing."""

    key: str
    url: str = Field(description="The URL with any password hidden.")
    kind: str
    fps: float | None
    gate: bool = Field(description="Whether the motion gate runs.")
    gate_ignore: list[list[float]]
    state: StreamState
    frames_in: int
    frames_out: int
    dropped: int
    gated: int
    lag_s: float | None
    max_lag_s: float | None
    last_frame_time: datetime | None
    reconnects: int
    error: str | None
    handler_errors: int
    decoded: int
    pipeline: StreamPipelinePublic | None = None


class StreamsPublic(PublicModel):
    """Every watched stream, by key."""

    items: list[StreamPublic]
    count: int


class StreamSyncPublic(PublicModel):
    """What syncing with the cameras table changed."""

    added: list[str]
    updated: list[str]
    removed: list[str]
    skipped: dict[str, str] = Field(description="Key → why it is not watched.")
