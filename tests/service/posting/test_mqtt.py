"""Case messages on MQTT: a real publish to the local Mosquitto and a subscriber that receives them."""

from __future__ import annotations

import json
import queue
import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from factories.posting import FOUND_AT, confirm_cases
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.db.base import utcnow
from service.db.models.cases import CaseEvent
from service.db.models.posting import OutboxMessage
from service.posting.errors import MqttError
from service.posting.mqtt import MqttPublisher
from service.posting.outbox import enqueue_case_event
from service.posting.payload import case_key
from service.posting.sender import OutboxSender, SendReport
from service.posting.settings import PostingSettings

BROKER = ("127.0.0.1", 1883)


def broker_running() -> bool:
    try:
        with socket.create_connection(BROKER, timeout=1):
            return True
    except OSError:
        return False


needs_broker = pytest.mark.skipif(not broker_running(), reason="no MQTT broker (Mosquitto) on 127.0.0.1:1883")


@pytest.fixture
def prefix() -> str:
    """A topic prefix of this test alone, so parallel runs do not see each other's messages."""
    return f"xiuhua-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def subscriber(prefix: str) -> Iterator[queue.Queue[tuple[str, Any]]]:
    """Messages arriving under ``<prefix>/cases/#`` as ``(topic, JSON)``."""
    import paho.mqtt.client as mqtt

    received: queue.Queue[tuple[str, Any]] = queue.Queue()
    subscribed = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{prefix}-sub")
    client.on_message = lambda _c, _u, message: received.put((message.topic, json.loads(message.payload)))
    client.on_subscribe = lambda *_args: subscribed.set()
    client.on_connect = lambda c, *_args: c.subscribe(f"{prefix}/cases/#", qos=1)
    client.connect(*BROKER)
    client.loop_start()
    assert subscribed.wait(5), "the broker did not confirm the subscription"
    yield received
    client.disconnect()
    client.loop_stop()


@needs_broker
def test_cases_and_stage_events_reach_a_subscriber(
    sqlite_sessions: sessionmaker[Session], prefix: str, subscriber: queue.Queue[tuple[str, Any]], tmp_path: Path
) -> None:
    with sqlite_sessions() as session, session.begin():
        (case,) = confirm_cases(session, 1, targets=("http", "mqtt"))
        event = CaseEvent(case_id=case.id, stage="dispatched", at=FOUND_AT + timedelta(hours=2), payload={"to": "城管"})
        session.add(event)
        enqueue_case_event(session, event=event)
        key = case_key(case)
    settings = PostingSettings(mqtt_host=BROKER[0], mqtt_port=BROKER[1], mqtt_topic_prefix=prefix, timeout_s=5)
    with MqttPublisher(settings) as publisher, httpx.Client() as client:
        sender = OutboxSender(settings, client, sqlite_sessions, mqtt=publisher)
        report = sender.run_once()
    assert report == SendReport(claimed=2, sent=2)
    messages = dict(subscriber.get(timeout=5) for _ in range(2))
    assert set(messages) == {f"{prefix}/cases/{case.id}/accepted", f"{prefix}/cases/{case.id}/dispatched"}
    created = messages[f"{prefix}/cases/{case.id}/accepted"]
    assert created["external_id"] == key and created["event_source"] == "41" and created["minor_type_code"] == "0501"
    assert all("data_base64" not in photo for photo in created["photos"])
    dispatched = messages[f"{prefix}/cases/{case.id}/dispatched"]
    assert dispatched["case_external_id"] == key and dispatched["stage_name"] == "派遣"
    assert dispatched["details"] == {"to": "城管"}
    with sqlite_sessions() as session:
        states = {(row.target, row.state) for row in session.scalars(select(OutboxMessage))}
    assert states == {("http", "pending"), ("mqtt", "sent")}, "the http row waits for a sender with a URL"


def test_a_broker_that_is_down_means_a_retry(sqlite_sessions: sessionmaker[Session], tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = PostingSettings(mqtt_host="127.0.0.1", mqtt_port=port, timeout_s=1, backoff_base_s=3, jitter=0)
    publisher = MqttPublisher(settings)
    with pytest.raises(MqttError, match=f"127.0.0.1:{port}"):
        publisher.publish("xiuhua/cases/1/accepted", b"{}")
    with sqlite_sessions() as session, session.begin():
        confirm_cases(session, 1, targets=("mqtt",))
    now = utcnow()
    with httpx.Client() as client:
        report = OutboxSender(settings, client, sqlite_sessions, mqtt=publisher).run_once(now)
    publisher.close()
    assert report == SendReport(claimed=1, retried=1)
    with sqlite_sessions() as session:
        row = session.scalars(select(OutboxMessage)).one()
    assert row.state == "pending" and row.next_attempt_at == now + timedelta(seconds=3)
    assert row.last_error is not None and row.last_error.startswith("MQTT xiuhua/cases/")


def test_the_publisher_needs_a_host() -> None:
    with pytest.raises(ValueError, match="mqtt_host"):
        MqttPublisher(PostingSettings())
