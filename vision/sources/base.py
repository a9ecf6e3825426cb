"""What every frame source offers: iteration over `Frame` objects, a description, a size hint."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Literal, Protocol, Self, runtime_checkable

from vision.frame import Frame

SourceKind = Literal["video", "images", "stream"]


@dataclass(frozen=True)
class SourceInfo:
    """What is known about a source before (or without) decoding it.

    Attributes:
        source_id: The path or URL as given.
        kind: ``"video"`` (a file decoded as fast as possible), ``"images"`` (one picture or a folder of them) or
            ``"stream"`` (a live URL, or a file played at real-time speed).
        sampling: The sampling in effect, in words (``"2 fps"``, ``"every frame"``, ``"keyframes"``).
        width: Picture width in pixels, if known (for a folder of images: the first image's, after EXIF rotation).
        height: Picture height in pixels, if known.
        duration: Length in seconds, if known.
        fps: Average frame rate estimated by the container, if known.
        frame_count: Frames (or image files) in the source, if known.
        codec: Video codec name (``"h264"``, ``"hevc"``) or image format (``"JPEG"``), if known.
        container: Container format (``"mov,mp4,m4a,3gp,3g2,mj2"``, ``"matroska,webm"``), if known.
        creation_time: When the container says it was recorded, if it says.
    """

    source_id: str
    kind: SourceKind
    sampling: str
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    fps: float | None = None
    frame_count: int | None = None
    codec: str | None = None
    container: str | None = None
    creation_time: datetime | None = None


@runtime_checkable
class FrameSource(Protocol):
    """An iterable of frames that can describe itself and be closed.

    Iterating yields `Frame` objects in order. A source that hits unreadable data (a truncated or corrupt file, a
    stream that never comes back) first yields every frame it could read, then raises `vision.errors.SourceError`,
    so callers keep what they got.
    """

    source_id: str

    def __iter__(self) -> Iterator[Frame]: ...

    def describe(self) -> SourceInfo:
        """What is known about the source."""
        ...

    def count_hint(self) -> int | None:
        """How many frames iteration is expected to yield, for progress bars; None when unknown."""
        ...

    def close(self) -> None:
        """Releases files, connections and threads; safe to call twice."""
        ...

    def __enter__(self) -> FrameSource: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


class ClosingSource:
    """Context-manager behaviour shared by the sources: leaving the ``with`` block calls ``close()``."""

    def close(self) -> None:
        """Releases files, connections and threads; safe to call twice."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
