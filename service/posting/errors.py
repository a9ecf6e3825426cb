"""What can go wrong when posting: one small tree under :class:`PostingError`.

- :class:`PayloadError`: a case cannot be turned into the platform's JSON (unknown event code, unreadable photo).
- :class:`MessageNotFound`: no outbox message with that id (the API answers 404).
- :class:`MessageNotDead`: an admin asked to retry a message that is not dead-lettered (the API answers 409).
- :class:`MqttError`: the MQTT broker cannot be reached or did not acknowledge a publish (the sender retries).
"""

from __future__ import annotations


class PostingError(RuntimeError):
    """Base of every posting error."""


class PayloadError(PostingError):
    """A case or its evidence cannot be turned into the platform's JSON; the message names the field or file."""


class MessageNotFound(PostingError):
    """No outbox message has the given id."""


class MessageNotDead(PostingError):
    """The message is not dead-lettered, so there is nothing to retry."""


class MqttError(PostingError):
    """The MQTT broker refused, dropped or did not acknowledge a publish."""
