"""The outbox sender: delivers due outbox rows to the city platform (HTTP) and to MQTT, with retries.

Delivery guarantee. The sender sends *at least once*: a row is marked sent only after the receiver acknowledged
it, so a crash, a timeout or a lost response means the same message goes out again later. Every request carries
the row's ``Idempotency-Key`` header (and the same value as ``external_id`` in the JSON); a receiver that keeps
the keys it has seen and answers a repeat with 2xx or 409 without acting on it gets each case *exactly once*.
That is the contract with the platform; without it, a lost response can mean a duplicate.

How an HTTP answer is treated:

- 2xx: sent. 409 Conflict: sent too (the platform says it has that key already).
- 408, 425, 429, 5xx, timeouts, refused or dropped connections: retried after an exponential backoff
  (``backoff_base_s · 2^(attempt-1)``, at most ``backoff_cap_s``, shortened by a random ``jitter`` fraction so
  senders do not retry in step; a ``Retry-After`` in seconds is honoured up to the cap).
- Any other 4xx, a redirect, or a payload that cannot be built (e.g. an inline photo file gone): dead at once, since
  repeating the same request cannot succeed; an admin fixes the cause and calls
  :func:`service.posting.outbox.retry_dead`.
- After ``max_attempts`` attempts a retryable failure dead-letters the row with the last error.

Example::

    sender = OutboxSender(settings, httpx.Client(), session_factory(engine), mqtt=MqttPublisher(settings))
    sender.run_forever(stop_event, poll_s=5)
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from service.db.base import utcnow
from service.posting.claims import Claim, claim_due, mark_dead, mark_retry, mark_sent
from service.posting.errors import MqttError, PayloadError
from service.posting.payload import render_payload
from service.posting.photos import face_blurrer
from service.posting.settings import PostingSettings
from vision.evidence import FaceBlurrer

logger = logging.getLogger(__name__)

RETRYABLE_4XX = frozenset({408, 425, 429})
ALREADY_HAVE_IT = 409


class MessagePublisher(Protocol):
    """What the sender needs of an MQTT publisher (:class:`service.posting.mqtt.MqttPublisher`)."""

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish and wait for the broker's acknowledgement; raise :class:`MqttError` otherwise."""


@dataclass(frozen=True)
class Delivery:
    """What one attempt came to.

    Attributes:
        state: ``sent``, ``retry`` or ``dead``.
        error: Why it was not sent.
        retry_after_s: The receiver's ``Retry-After``, when it gave one in seconds.
    """

    state: str
    error: str | None = None
    retry_after_s: float | None = None


@dataclass(frozen=True)
class SendReport:
    """What one :meth:`OutboxSender.run_once` did.

    Attributes:
        claimed: Rows taken.
        sent: Acknowledged by the receiver.
        retried: Failed and scheduled again.
        dead: Dead-lettered.
        lost: Outcomes not recorded because the claim's lease ran out and another sender took the row.
    """

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    lost: int = 0


def backoff_delay_s(attempts: int, settings: PostingSettings, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt number ``attempts`` (1-based): exponential, capped, jittered.

    With ``jitter = 0`` the schedule is exactly ``base, 2·base, 4·base, …, cap``; otherwise each delay is shortened
    by a uniform random fraction up to ``jitter``.
    """
    exponent = min(max(attempts - 1, 0), 63)  # 2**63 · base is past any cap; avoids float overflow
    delay = min(settings.backoff_cap_s, settings.backoff_base_s * 2.0**exponent)
    if settings.jitter:
        delay *= 1.0 - settings.jitter * (rng or random).random()
    return delay


def classify_response(response: httpx.Response) -> Delivery:
    """Turn an HTTP answer into sent / retry / dead (see the module docstring)."""
    status = response.status_code
    if 200 <= status < 300 or status == ALREADY_HAVE_IT:
        return Delivery("sent")
    error = f"HTTP {status} from {response.request.url}: {_excerpt(response)}"
    if status >= 500 or status in RETRYABLE_4XX:
        return Delivery("retry", error, _retry_after_s(response))
    if 300 <= status < 400:
        location = response.headers.get("location", "?")
        return Delivery("dead", f"{error} (redirect to {location}; configure the final URL)")
    return Delivery("dead", error)


class OutboxSender:
    """Delivers due outbox rows; several senders (threads or processes) may run against one PostgreSQL database.

    Args:
        settings: URL, timeouts, backoff, batch size, lease, payload rendering.
        client: The HTTP client (inject ``httpx.MockTransport`` in tests, or a client with auth headers).
        session_factory: Makes sessions on the outbox's database.
        mqtt: Publisher for ``mqtt`` rows; without one, ``mqtt`` rows stay pending for a sender that has one.
        rng: Randomness for the jitter (seed it for reproducible schedules).
        blurrer: Blurs faces in photos when ``settings.blur_faces`` is on; ``None`` builds one on the first photo
            that needs it and keeps it for the sender's life. When none can be built, each case that would carry
            a photo is dead-lettered with the error (:func:`service.posting.photos.face_blurrer`).
    """

    def __init__(
        self,
        settings: PostingSettings,
        client: httpx.Client,
        session_factory: Callable[[], Session],
        *,
        mqtt: MessagePublisher | None = None,
        rng: random.Random | None = None,
        blurrer: FaceBlurrer | None = None,
    ) -> None:
        self.settings = settings
        self.client = client
        self.session_factory = session_factory
        self.mqtt = mqtt
        self.rng = rng or random.Random()
        self.blurrer = blurrer
        self.targets = tuple(t for t, on in (("http", settings.url), ("mqtt", mqtt)) if on)

    def run_once(self, now: datetime | None = None) -> SendReport:
        """Send every row due at ``now``, ``batch_size`` at a time, until none is left.

        Args:
            now: The time to act at (aware); the wall clock by default. Tests pass it to step through backoff.
        """
        at = now or utcnow()
        totals = SendReport()
        while True:
            with self.session_factory() as session, session.begin():
                claims = claim_due(
                    session,
                    now=at,
                    targets=self.targets,
                    limit=self.settings.batch_size,
                    lease_s=self.settings.claim_lease_s,
                )
            if not claims:
                return totals
            for claim in claims:
                totals = _add(totals, self._deliver(claim, now or utcnow()))

    def run_forever(self, stop_event: threading.Event, poll_s: float = 5.0) -> None:
        """Call :meth:`run_once` until ``stop_event`` is set, waiting ``poll_s`` between rounds.

        A database error is logged and retried on the next round rather than ending the loop.
        """
        while not stop_event.is_set():
            try:
                report = self.run_once()
            except SQLAlchemyError:
                logger.exception("outbox round failed; trying again in %.1f s", poll_s)
            else:
                if report.claimed:
                    logger.info("outbox: %s", report)
            stop_event.wait(poll_s)

    def _deliver(self, claim: Claim, now: datetime) -> SendReport:
        delivery = self._attempt(claim)
        if delivery.state == "retry" and claim.attempts >= self.settings.max_attempts:
            delivery = Delivery("dead", f"gave up after {claim.attempts} attempts; last: {delivery.error}")
        with self.session_factory() as session, session.begin():
            if delivery.state == "sent":
                recorded = mark_sent(session, claim=claim, now=now)
            elif delivery.state == "dead":
                recorded = mark_dead(session, claim=claim, error=delivery.error or "dead")
            else:
                delay = backoff_delay_s(claim.attempts, self.settings, self.rng)
                if delivery.retry_after_s is not None:
                    delay = max(delay, min(delivery.retry_after_s, self.settings.backoff_cap_s))
                retry_at = now + timedelta(seconds=delay)
                recorded = mark_retry(session, claim=claim, error=delivery.error or "retry", retry_at=retry_at)
        if not recorded:
            logger.warning("outbox message %s: claim lost to another sender; outcome %s dropped", claim.id, delivery)
            return SendReport(claimed=1, lost=1)
        if delivery.state != "sent":
            logger.warning("outbox message %s attempt %s: %s", claim.id, claim.attempts, delivery.error)
        return SendReport(claimed=1, **{_COUNTERS[delivery.state]: 1})

    def _attempt(self, claim: Claim) -> Delivery:
        try:
            if claim.target == "mqtt":
                return self._publish(claim)
            return self._post(claim)
        except PayloadError as error:
            return Delivery("dead", f"payload: {error}")

    def _post(self, claim: Claim) -> Delivery:
        if not self.settings.url:
            return Delivery("retry", "no URL configured for the http target")
        inline = self.settings.photo_mode == "inline"
        body = render_payload(claim.payload, settings=self.settings, blurrer=self._blurrer(claim, inline=inline))
        try:
            response = self.client.post(
                self.settings.url,
                content=_json_bytes(body),
                headers={"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": claim.idempotency_key},
                timeout=self.settings.timeout_s,
            )
        except httpx.HTTPError as error:  # timeouts, refused and dropped connections
            return Delivery("retry", f"{type(error).__name__} posting to {self.settings.url}: {error}")
        return classify_response(response)

    def _publish(self, claim: Claim) -> Delivery:
        if self.mqtt is None:
            return Delivery("retry", "no MQTT publisher configured")
        blurrer = self._blurrer(claim, inline=False)
        body = render_payload(claim.payload, settings=self.settings, inline_photos=False, blurrer=blurrer)
        topic = mqtt_topic(self.settings, case_id=claim.case_id, stage=str(claim.payload.get("stage", "unknown")))
        try:
            self.mqtt.publish(topic, _json_bytes(body))
        except MqttError as error:
            return Delivery("retry", f"MQTT {topic}: {error}")
        return Delivery("sent")

    def _blurrer(self, claim: Claim, *, inline: bool) -> FaceBlurrer | None:
        """The face blurrer, built once (on the first message whose photos leave) when ``blur_faces`` is on."""
        leaves = bool(claim.payload.get("photos")) and (inline or bool(self.settings.public_base_url))
        if self.settings.blur_faces and self.blurrer is None and leaves:
            self.blurrer = face_blurrer(self.settings)  # PayloadError: dead-lettered by _attempt
        return self.blurrer


def mqtt_topic(settings: PostingSettings, *, case_id: int, stage: str) -> str:
    """The topic of a case message: ``<prefix>/cases/<case id>/<stage>``."""
    return f"{settings.mqtt_topic_prefix}/cases/{case_id}/{stage}"


_COUNTERS = {"sent": "sent", "retry": "retried", "dead": "dead"}


def _add(total: SendReport, one: SendReport) -> SendReport:
    return SendReport(
        claimed=total.claimed + one.claimed,
        sent=total.sent + one.sent,
        retried=total.retried + one.retried,
        dead=total.dead + one.dead,
        lost=total.lost + one.lost,
    )


def _json_bytes(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _excerpt(response: httpx.Response, limit: int = 300) -> str:
    try:
        text = response.text
    except (httpx.HTTPError, UnicodeDecodeError):
        return "(unreadable body)"
    text = " ".join(text.split())
    return text[:limit] + ("…" if len(text) > limit else "") if text else "(empty body)"


def _retry_after_s(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        seconds = float(value)
    except ValueError:
        return None  # HTTP-date form or absent: fall back to our own backoff
    return seconds if seconds >= 0 else None
