"""Proving that code under test never reaches the network."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest


@contextmanager
def no_network() -> Iterator[list[str]]:
    """Refuse every outbound connection and name lookup inside the block; yields the attempts made.

    A refused attempt raises OSError where it happens; the list lets a test assert that none was even tried
    (code that swallows the error would otherwise go unnoticed).
    """
    attempts: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(repr(args[:2]))
        raise OSError("network access is disabled in tests")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket, "getaddrinfo", refuse)
        patch.setattr(socket, "create_connection", refuse)
        yield attempts
