"""Publishing case messages to an MQTT broker (paho-mqtt 2), QoS 1, waiting for the broker's PUBACK.

Topics are ``<prefix>/cases/<case id>/<stage>`` (e.g. ``xiuhua/cases/12/accepted`` when a case is confirmed,
``xiuhua/cases/12/dispatched`` for a stage event). QoS 1 is at-least-once, like the HTTP target: subscribers
drop repeats by the ``external_id`` field of the JSON. The connection is opened on the first publish and
re-opened after a failure; :meth:`MqttPublisher.close` ends it.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from service.posting.errors import MqttError
from service.posting.settings import PostingSettings

QOS = 1


class MqttPublisher:
    """Publishes with QoS 1 and returns once the broker acknowledged, or raises :class:`MqttError`.

    Args:
        settings: ``mqtt_host``, ``mqtt_port``, credentials; ``timeout_s`` bounds connecting and each publish.
        client_id: The MQTT client id; a random ``xiuhua-sender-…`` by default.
    """

    def __init__(self, settings: PostingSettings, *, client_id: str | None = None) -> None:
        if not settings.mqtt_host:
            raise ValueError("mqtt_host: not set (XIUHUA_MQTT_HOST); the MQTT target needs a broker")
        self.settings = settings
        self.host: str = settings.mqtt_host
        self.client_id = client_id or f"xiuhua-sender-{uuid.uuid4().hex[:12]}"
        self._client: Any = None
        self._lock = threading.Lock()

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish ``payload`` to ``topic`` with QoS 1 and wait for the PUBACK.

        Raises:
            MqttError: The broker cannot be reached, refused the connection, or did not acknowledge in time.
        """
        with self._lock:
            client = self._connected()
            try:
                info = client.publish(topic, payload, qos=QOS)
                info.wait_for_publish(timeout=self.settings.timeout_s)
            except (RuntimeError, ValueError) as error:
                self._drop()
                raise MqttError(f"publish to {topic} failed: {error}") from error
            if not info.is_published():
                self._drop()
                raise MqttError(f"no acknowledgement for {topic} within {self.settings.timeout_s} s")

    def close(self) -> None:
        """Disconnect (safe to call more than once)."""
        with self._lock:
            self._drop()

    def __enter__(self) -> MqttPublisher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _connected(self) -> Any:
        if self._client is not None and self._client.is_connected():
            return self._client
        self._drop()
        import paho.mqtt.client as mqtt

        connected = threading.Event()
        outcome: dict[str, Any] = {}

        def on_connect(_client: Any, _userdata: Any, _flags: Any, reason_code: Any, _properties: Any) -> None:
            outcome["reason"] = reason_code
            connected.set()

        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id)
        client.on_connect = on_connect
        if self.settings.mqtt_username:
            client.username_pw_set(self.settings.mqtt_username, self.settings.mqtt_password)
        where = f"{self.host}:{self.settings.mqtt_port}"
        try:
            client.connect(self.host, self.settings.mqtt_port, keepalive=60)
        except OSError as error:
            raise MqttError(f"cannot connect to MQTT broker {where}: {error}") from error
        client.loop_start()
        if not connected.wait(self.settings.timeout_s):
            _stop(client)
            raise MqttError(f"MQTT broker {where} did not answer CONNECT within {self.settings.timeout_s} s")
        reason = outcome["reason"]
        if reason.is_failure:
            _stop(client)
            raise MqttError(f"MQTT broker {where} refused the connection: {reason}")
        self._client = client
        return client

    def _drop(self) -> None:
        if self._client is not None:
            _stop(self._client)
            self._client = None


def _stop(client: Any) -> None:
    try:
        client.disconnect()
    finally:
        client.loop_stop()
