"""What the stream workers are told: one camera's stream (`StreamSpec`) and the frame handler it feeds."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

from service.db.models.cameras import CAMERA_KINDS
from vision.frame import Frame
from vision.gate import check_ignore_box
from vision.sources import Sampling

Box = tuple[float, float, float, float]


class SpecError(ValueError):
    """A stream specification has a bad value.

    Attributes:
        field: The field at fault (``key``, ``url``, ``kind``, ``fps``, ``gate``, ``gate_ignore``).
        reason: What is wrong, in words.
    """

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason


@dataclass(frozen=True)
class StreamSpec:
    """One camera stream to watch.

    Attributes:
        key: The camera's key (``cam-012``); frames handed on carry it as ``source_id`` (never the URL, which may
            hold credentials).
        url: Stream URL (``rtsp://``, ``http://`` MJPEG or HLS, ...) or a local video file played at real-time speed.
        kind: Camera kind, one of ``fixed``, ``ptz``, ``patrol``.
        fps: Frames per second handed on (by arrival time); None hands on every decoded frame.
        gate: Use the motion gate; None decides by kind (on for fixed cameras only).
        gate_ignore: Regions the gate never compares, as ``(x1, y1, x2, y2)`` fractions (an on-screen clock).
    """

    key: str
    url: str
    kind: str = "fixed"
    fps: float | None = 2.0
    gate: bool | None = None
    gate_ignore: tuple[Box, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key.strip():
            raise SpecError("key", "must be a non-empty string")
        if not isinstance(self.url, str) or not self.url.strip():
            raise SpecError("url", "must be a non-empty string")
        if self.kind not in CAMERA_KINDS:
            raise SpecError("kind", f"{self.kind!r} is not one of {', '.join(CAMERA_KINDS)}")
        if self.fps is not None and (
            isinstance(self.fps, bool) or not isinstance(self.fps, int | float) or not math.isfinite(self.fps)
        ):
            raise SpecError("fps", f"must be a positive number or 'all', got {self.fps!r}")
        if self.fps is not None and self.fps <= 0:
            raise SpecError("fps", f"must be a positive number or 'all', got {self.fps!r}")
        if self.gate is not None and not isinstance(self.gate, bool):
            raise SpecError("gate", f"must be true or false, got {self.gate!r}")
        for index, box in enumerate(self.gate_ignore):
            try:
                check_ignore_box(box)
            except ValueError as error:
                raise SpecError(f"gate_ignore[{index}]", str(error)) from None

    @property
    def gate_enabled(self) -> bool:
        """Whether the motion gate runs: as set, else only for fixed cameras."""
        return self.kind == "fixed" if self.gate is None else self.gate

    @property
    def sampling(self) -> Sampling:
        """The source sampling for ``fps``."""
        return Sampling.every_frame() if self.fps is None else Sampling.per_second(self.fps)

    @property
    def safe_url(self) -> str:
        """The URL with any password replaced by ``***``, for logs, health and metrics."""
        return redact_url(self.url)


def redact_url(url: str) -> str:
    """Replaces the password of a ``scheme://user:password@host`` URL with ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


@runtime_checkable
class FrameHandler(Protocol):
    """What a stream worker hands its frames to: one handler per stream, called from that stream's thread only.

    ``handle`` gets the frames that passed sampling, the stale-frame check and the motion gate, in time order, with
    ``source_id`` set to the camera key. ``close`` is called once, from the same thread, after the last ``handle``.
    """

    def handle(self, frame: Frame) -> None:
        """Processes one frame; an exception is logged and counted, and the stream goes on."""
        ...

    def close(self) -> None:
        """Releases what the handler holds (flushes open sightings, closes sessions)."""
        ...


HandlerFactory = Callable[[StreamSpec], FrameHandler]
"""Builds the handler of one stream; called by `StreamManager.add` in the caller's thread."""
