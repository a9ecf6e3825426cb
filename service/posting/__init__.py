"""Posting confirmed cases to the city platform (HTTP) and case events to MQTT, through a transactional outbox.

- :mod:`service.posting.outbox`: enqueue in the confirming transaction; posting state; dead letters; retry.
- :mod:`service.posting.payload`: the JSON format (documented there).
- :mod:`service.posting.sender`: :class:`~service.posting.sender.OutboxSender` delivers due rows with retries.
- :mod:`service.posting.mqtt`: :class:`~service.posting.mqtt.MqttPublisher` (paho-mqtt 2, QoS 1).
- :mod:`service.posting.settings`: :class:`~service.posting.settings.PostingSettings`.
"""
