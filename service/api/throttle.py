"""Slowing down password guessing: too many failed logins for a name (or from an address) lock it for a while.

Kept in memory, per process: a restart forgets it, and several workers each count on their own. That is enough to
turn online guessing from thousands of tries a minute into a handful per window, and it also keeps a flood of
logins from making the server hash passwords (argon2 is deliberately expensive) for nothing.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from datetime import datetime, timedelta

# An address may fail this many times more than one name: reviewers in one office share an address.
ADDRESS_FACTOR = 4


class LoginThrottle:
    """Counts failed logins per key over a sliding window.

    Args:
        max_failures: Failures of one name within ``window_s`` after which it is refused until the oldest ages out.
        window_s: The window, in seconds.
    """

    def __init__(self, *, max_failures: int, window_s: float) -> None:
        self.max_failures = max_failures
        self.window = timedelta(seconds=window_s)
        self._failures: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def keys(username: str, address: str | None) -> list[tuple[str, int]]:
        """The counters a login attempt touches, with the factor of the limit each gets."""
        keys = [(f"user:{username.casefold()}", 1)]
        if address:
            keys.append((f"address:{address}", ADDRESS_FACTOR))
        return keys

    def retry_after(self, keys: Sequence[tuple[str, int]], *, now: datetime) -> float | None:
        """Seconds until a locked key frees up, or ``None`` when the attempt may go ahead."""
        waits = []
        with self._lock:
            for key, factor in keys:
                failures = self._recent(key, now)
                if len(failures) >= self.max_failures * factor:
                    waits.append((failures[-self.max_failures * factor] + self.window - now).total_seconds())
        return max(waits) if waits else None

    def failed(self, keys: Sequence[tuple[str, int]], *, now: datetime) -> None:
        """Count a failed attempt against every key."""
        with self._lock:
            for key, _ in keys:
                self._recent(key, now, create=True).append(now)

    def succeeded(self, keys: Sequence[tuple[str, int]]) -> None:
        """Forget a name's failures after a successful login (its address keeps its count)."""
        with self._lock:
            for key, _ in keys:
                if key.startswith("user:"):
                    self._failures.pop(key, None)

    def _recent(self, key: str, now: datetime, *, create: bool = False) -> deque[datetime]:
        failures = self._failures.get(key)
        if failures is None:
            if not create:
                return deque()
            failures = self._failures[key] = deque()
        while failures and failures[0] + self.window <= now:
            failures.popleft()
        if not failures and not create:  # keep the table from growing with every name ever tried
            del self._failures[key]
        return failures
