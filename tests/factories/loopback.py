"""Local HTTP servers for tests: one request handler served on a free loopback port, and MJPEG parts to send."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from io import BufferedIOBase


@contextmanager
def serve_loopback(handler: Callable[..., http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serves ``handler`` on 127.0.0.1 in a background thread until the block ends; yields ``http://127.0.0.1:PORT``.

    Request threads are daemons, so a handler still streaming when the block ends does not hold the test up.
    """
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def serve_mjpeg(handler: Callable[..., http.server.BaseHTTPRequestHandler], stopping: threading.Event) -> Iterator[str]:
    """Serves an MJPEG ``handler`` like :func:`serve_loopback`; yields the stream's URL (``/stream.mjpg``).

    When the block ends ``stopping`` is set first, so that the handlers still streaming return, then the server
    shuts down.
    """
    with serve_loopback(handler) as base_url:
        try:
            yield f"{base_url}/stream.mjpg"
        finally:
            stopping.set()


def write_mjpeg_part(out: BufferedIOBase, jpeg: bytes) -> None:
    """Writes one JPEG as a part of a ``multipart/x-mixed-replace; boundary=frame`` answer."""
    head = f"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
    out.write(head.encode() + jpeg + b"\r\n")
