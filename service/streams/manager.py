"""`StreamManager`: one worker per camera stream, added, changed and removed while the others keep running."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING

from service.errors import Conflict, NotFound
from service.streams.spec import HandlerFactory, StreamSpec
from service.streams.worker import (
    SourceFactory,
    StreamManagerSettings,
    StreamStatus,
    StreamWorker,
    open_stream_source,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncResult:
    """What `StreamManager.sync` changed.

    Attributes:
        added: Keys of streams started.
        updated: Keys of streams restarted because their specification changed.
        removed: Keys of streams stopped because they are no longer listed.
        skipped: Keys left alone, with the reason (bad settings, a key watched from another origin, a handler
            that could not be built).
    """

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    skipped: Mapping[str, str] = field(default_factory=dict)


@dataclass
class _Entry:
    worker: StreamWorker
    origin: str


class StreamManager:
    """Runs a `StreamWorker` per stream; every method is safe to call from any thread.

    Changes are serialised and may wait up to ``stop_timeout_s`` for a worker to finish its frame in hand;
    `health` and `specs` never wait for them.

    Example:
        >>> manager = StreamManager(StreamManagerSettings(), handler_factory=lambda spec: MyHandler(spec))
        >>> manager.add(StreamSpec(key="cam-012", url="rtsp://10.0.0.12/main"))
        >>> manager.health()["cam-012"].frames_out
        >>> manager.close()
    """

    def __init__(
        self,
        settings: StreamManagerSettings | None,
        handler_factory: HandlerFactory,
        *,
        source_factory: SourceFactory = open_stream_source,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Creates a manager with no streams.

        Args:
            settings: Buffering, gate and timing for every worker; default `StreamManagerSettings()`.
            handler_factory: Builds each stream's frame handler (called by `add`, in the caller's thread).
            source_factory: Opens a stream (tests pass fakes).
            clock: Current UTC time, for lag.
        """
        self.settings = settings or StreamManagerSettings()
        self.handler_factory = handler_factory
        self._source_factory = source_factory
        self._clock = clock
        # Changes (add, remove, update, sync) are serialised by one lock and may wait for a worker to stop;
        # the table itself is guarded by another, held only briefly, so health() never waits for a change.
        self._changes = threading.RLock()
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._closed = False

    def add(self, spec: StreamSpec, *, origin: str = "manual") -> None:
        """Builds the stream's handler and starts its worker.

        Args:
            spec: The stream.
            origin: Who manages it (``"manual"``, ``"config"``, ``"db"``); `sync` only touches its own origin.

        Raises:
            Conflict: A stream with this key is already running, or the manager is closed.
            Exception: Whatever the handler factory raised.
        """
        with self._changes:
            with self._lock:
                if self._closed:
                    raise Conflict("the stream manager is closed")
                if spec.key in self._entries:
                    raise Conflict(f"stream {spec.key!r} is already watched", field="key")
            worker = StreamWorker(
                spec,
                self.handler_factory(spec),
                self.settings,
                source_factory=self._source_factory,
                clock=self._clock,
            )
            with self._lock:
                self._entries[spec.key] = _Entry(worker, origin)
            worker.start()
        log.info("stream %s: watching %s", spec.key, spec.safe_url)

    def remove(self, key: str) -> StreamStatus:
        """Stops a stream and closes its handler; returns its last status.

        Raises:
            NotFound: No stream has this key.
        """
        with self._changes:
            with self._lock:
                entry = self._entries.pop(key, None)
            if entry is None:
                raise NotFound(f"no stream {key!r}", field="key")
            entry.worker.request_stop()
            self._join(entry.worker)
        log.info("stream %s: removed", key)
        return entry.worker.status()

    def update(self, spec: StreamSpec) -> bool:
        """Replaces a stream's specification, restarting its worker (counters restart) when it changed.

        Returns:
            Whether anything changed.

        Raises:
            NotFound: No stream has this key.
        """
        with self._changes:
            with self._lock:
                entry = self._entries.get(spec.key)
            if entry is None:
                raise NotFound(f"no stream {spec.key!r}", field="key")
            if entry.worker.spec == spec:
                return False
            self.remove(spec.key)
            self.add(spec, origin=entry.origin)
            return True

    def sync(self, specs: Iterable[StreamSpec], *, origin: str) -> SyncResult:
        """Makes the streams of one origin match a list: adds the new, restarts the changed, removes the missing.

        Streams of other origins are left alone; a listed key already watched from another origin is skipped.
        A handler that cannot be built skips its stream, so one bad camera does not stop the others.
        """
        added: list[str] = []
        updated: list[str] = []
        skipped: dict[str, str] = {}
        wanted = {spec.key: spec for spec in specs}
        with self._changes:
            with self._lock:
                current = dict(self._entries)
            removed = [key for key, entry in current.items() if entry.origin == origin and key not in wanted]
            for key in removed:
                self.remove(key)
            for key, spec in wanted.items():
                entry = current.get(key)
                if entry is not None and entry.origin != origin:
                    skipped[key] = f"already watched from {entry.origin}"
                    continue
                try:
                    if entry is None:
                        self.add(spec, origin=origin)
                        added.append(key)
                    elif self.update(spec):
                        updated.append(key)
                except Exception as error:
                    log.exception("stream %s: cannot start", key)
                    skipped[key] = f"cannot start: {type(error).__name__}: {error}"
        return SyncResult(added=tuple(added), updated=tuple(updated), removed=tuple(removed), skipped=skipped)

    def sync_from_db(self, session: Session) -> SyncResult:
        """Matches the ``db`` streams to the enabled cameras with a stream URL in the database.

        A camera whose ``settings`` hold bad stream options is skipped with the reason (and a warning).
        """
        from service.streams.registry import camera_stream_specs

        specs, invalid = camera_stream_specs(session)
        result = self.sync(specs, origin="db")
        for key, reason in invalid.items():
            log.warning("camera %s: not watched: %s", key, reason)
        return SyncResult(
            added=result.added,
            updated=result.updated,
            removed=result.removed,
            skipped={**result.skipped, **invalid},
        )

    def specs(self) -> dict[str, StreamSpec]:
        """The streams watched, by key."""
        with self._lock:
            return {key: entry.worker.spec for key, entry in self._entries.items()}

    def health(self) -> dict[str, StreamStatus]:
        """Each stream's status, by key (sorted)."""
        with self._lock:
            workers = [self._entries[key].worker for key in sorted(self._entries)]
        return {worker.spec.key: worker.status() for worker in workers}

    def close(self) -> None:
        """Stops every stream (all asked at once, then waited for) and refuses new ones; safe to call twice."""
        with self._changes:
            with self._lock:
                self._closed = True
                entries = list(self._entries.values())
                self._entries.clear()
            for entry in entries:
                entry.worker.request_stop()
            for entry in entries:
                self._join(entry.worker)

    def __enter__(self) -> StreamManager:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def _join(self, worker: StreamWorker) -> None:
        if not worker.join(self.settings.stop_timeout_s):
            log.warning(
                "stream %s: worker still busy after %.0f s; its handler closes when the frame in hand is done",
                worker.spec.key,
                self.settings.stop_timeout_s,
            )
