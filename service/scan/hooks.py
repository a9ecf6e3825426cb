"""A test hook: stop a scan at a known point so a test can ``kill -9`` it there.

``XIUHUA_SCAN_TEST_PAUSE=sightings:N`` (or ``sources:N``) makes the process, once it has recorded N sightings
(finished N sources), write the file named by ``XIUHUA_SCAN_TEST_PAUSE_FILE`` and sleep until it is killed.
Unset (always, outside tests), the hook does nothing.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

PAUSE_ENV = "XIUHUA_SCAN_TEST_PAUSE"
PAUSE_FILE_ENV = "XIUHUA_SCAN_TEST_PAUSE_FILE"
_EVENTS = ("sightings", "sources")


@dataclass
class PauseHook:
    """Counts sightings and sources in this process and pauses at the configured one."""

    event: str | None = None
    after: int = 0
    marker: Path | None = None
    sightings: int = 0
    sources: int = 0

    @classmethod
    def from_env(cls) -> PauseHook:
        """The hook the environment asks for (inactive when ``XIUHUA_SCAN_TEST_PAUSE`` is unset).

        Raises:
            ValueError: The variable is not ``sightings:N`` or ``sources:N``.
        """
        spec = os.environ.get(PAUSE_ENV, "").strip()
        if not spec:
            return cls()
        event, _, count = spec.partition(":")
        if event not in _EVENTS or not count.isdigit():
            raise ValueError(f"{PAUSE_ENV} must be 'sightings:N' or 'sources:N', got {spec!r}")
        marker = os.environ.get(PAUSE_FILE_ENV)
        return cls(event, int(count), Path(marker) if marker else None)

    def sighting_recorded(self) -> None:
        """One more sighting was committed."""
        self.sightings += 1
        if self.event == "sightings" and self.sightings == self.after:
            self._pause()

    def source_finished(self) -> None:
        """One more source was marked done or failed."""
        self.sources += 1
        if self.event == "sources" and self.sources == self.after:
            self._pause()

    def _pause(self) -> None:
        if self.marker is not None:
            self.marker.write_text(f"{os.getpid()}\n")
        while True:  # until the test kills the process
            time.sleep(1.0)
