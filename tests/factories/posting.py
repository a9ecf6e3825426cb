"""A real local HTTP server playing the city platform, and confirmed cases to post to it.

``FakeCityPlatform`` listens on 127.0.0.1 (a free port) and answers each POST according to a script, then
according to ``then``. Actions:

- ``ok``: accept; a repeat of a known ``Idempotency-Key`` is answered ``repeat_status`` and not acted on again.
- ``503`` / ``500`` / ``429`` / ``400`` …: answer that status without accepting.
- ``drop``: read the request, close the connection without an answer, accept nothing.
- ``lose``: accept (as ``ok``), then close the connection without an answer: the sender cannot know it arrived.
- ``slow``: accept (as ``ok``), then wait ``slow_s`` before answering (longer than the sender's timeout).

``delay_s`` delays every answer a little (to make concurrent senders overlap).

``cases`` is the platform's deduplicated view (key → JSON body); ``arrivals`` counts every request per key and
``accepted`` the requests that reached the case logic (first deliveries and repeats); ``received`` lists those
``(key, body)`` in order.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from service.db.models.cases import Case
from service.db.models.violations import Candidate, Evidence
from service.posting.outbox import enqueue_case

FOUND_AT = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


class FakeCityPlatform:
    """The city platform's case endpoint, scripted to fail; use as a context manager."""

    def __init__(
        self,
        script: Sequence[str] = (),
        *,
        then: str = "ok",
        repeat_status: int = 200,
        delay_s: float = 0.0,
        slow_s: float = 0.5,
        retry_after: str | None = None,
    ) -> None:
        self.script = list(script)
        self.then = then
        self.repeat_status = repeat_status
        self.delay_s = delay_s
        self.slow_s = slow_s
        self.retry_after = retry_after
        self.cases: dict[str, Any] = {}
        self.arrivals: Counter[str] = Counter()
        self.accepted: Counter[str] = Counter()
        self.received: list[tuple[str, Any]] = []
        self.requests = 0
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The endpoint to POST cases to."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/api/cases"

    def __enter__(self) -> FakeCityPlatform:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def answer(self, key: str | None, body: bytes, headers: dict[str, str]) -> tuple[str, int]:
        """Decide what to do with one request: ``(action, status)``; records what was accepted."""
        with self._lock:
            action = self.script.pop(0) if self.script else self.then
            self.requests += 1
            self.headers.append(headers)
            if key is None:
                return "answer", 400
            self.arrivals[key] += 1
            if action not in ("ok", "lose", "slow"):
                return ("drop", 0) if action == "drop" else ("answer", int(action))
            try:
                payload = json.loads(body)
            except json.JSONDecodeError:
                return "answer", 400
            self.accepted[key] += 1
            self.received.append((key, payload))
            if key in self.cases:
                status = self.repeat_status
            else:
                self.cases[key] = payload
                status = 201
            return {"lose": "drop", "slow": "slow"}.get(action, "answer"), status


def _handler_for(platform: FakeCityPlatform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            action, status = platform.answer(self.headers.get("Idempotency-Key"), body, dict(self.headers))
            if action == "drop":
                self.close_connection = True
                return
            time.sleep(platform.slow_s if action == "slow" else platform.delay_s)
            answer = json.dumps({"status": status}).encode()
            try:
                self.send_response(status)
                if platform.retry_after is not None and status in (429, 503):
                    self.send_header("Retry-After", platform.retry_after)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except OSError:  # the sender gave up waiting (``slow``)
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    return Handler


def add_candidate(
    session: Session,
    *,
    class_name: str = "vendor_stall",
    violation_type: str = "street_occupation",
    event_code: str = "0501",
    lat: float = 31.2304,
    lon: float = 121.4737,
) -> Candidate:
    """A confirmed candidate (flushed)."""
    candidate = Candidate(
        violation_type=violation_type,
        event_code=event_code,
        class_name=class_name,
        status="confirmed",
        lat=lat,
        lon=lon,
        accuracy_m=6.5,
        first_seen=FOUND_AT,
        last_seen=FOUND_AT + timedelta(minutes=4),
        sightings_count=3,
        score=0.8,
    )
    session.add(candidate)
    session.flush()
    return candidate


def add_evidence(
    session: Session, *, candidate: Candidate, folder: Path | None, kind: str = "frame", data: bytes | None = None
) -> Evidence:
    """An evidence row; with ``folder`` the JPEG-named file is written there too (bytes and SHA-256 agree).

    ``data`` is the file's content (e.g. a real JPEG); a short text by default.
    """
    relative = f"{candidate.id}/{kind}.jpg"
    data = f"evidence {candidate.id} {kind}".encode() if data is None else data
    if folder is not None:
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_bytes(data)
    evidence = Evidence(
        candidate_id=candidate.id,
        kind=kind,
        path=relative,
        sha256=hashlib.sha256(data).hexdigest(),
        taken_at=FOUND_AT + timedelta(minutes=1),
    )
    session.add(evidence)
    session.flush()
    return evidence


def add_case(session: Session, *, candidate: Candidate, **fields: Any) -> Case:
    """A case opened from ``candidate`` (type, code and place copied; ``fields`` add the rest), added, not flushed."""
    case = Case(
        candidate_id=candidate.id,
        event_code=candidate.event_code,
        violation_type=candidate.violation_type,
        lat=candidate.lat,
        lon=candidate.lon,
        **fields,
    )
    session.add(case)
    return case


def confirm_cases(
    session: Session, count: int, *, targets: Sequence[str] = ("http",), evidence_dir: Path | None = None
) -> list[Case]:
    """``count`` confirmed cases with two evidence files each and their outbox rows (caller commits)."""
    cases = []
    for index in range(count):
        candidate = add_candidate(session, lat=31.2304 + index * 1e-3)
        for kind in ("frame", "crop"):
            add_evidence(session, candidate=candidate, folder=evidence_dir, kind=kind)
        case = add_case(
            session,
            candidate=candidate,
            description="",
            address=f"人民路 {index + 1} 号",
            district="黄浦区",
            street="南京东路街道",
            grid="HP-0101-07",
        )
        enqueue_case(session, case=case, targets=targets)
        cases.append(case)
    return cases
