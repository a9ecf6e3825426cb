"""The errors the service logic raises, one small tree the HTTP layer maps to clear 4xx answers.

- :class:`ServiceError`: base of all of them (never raised itself).
- :class:`NotFound` → 404: no candidate, case, action or user with that id.
- :class:`Conflict` → 409: the request is valid but the state forbids it now: an item claimed by someone else, a
  candidate already decided, an undo after the case was posted, a stage change backwards.
- :class:`Invalid` → 422: a value is wrong whatever the state: an unknown reject reason, class or stage.
- :class:`Forbidden` → 403: the user may not do this (not the claim holder and not an admin, inactive user).

Every error carries a message meant for people and, where one field is at fault, its name in ``field``::

    try:
        review.reject(session, candidate_id=7, user_id=3, reason="ugly")
    except Invalid as error:
        error.field   # "reason"
        str(error)    # "reason: 'ugly' is not one of false_detection, permitted, duplicate, other"

Apart from that tree, :class:`FileFieldError` (a ``ValueError``) is the base of what the loaders of operators' files
raise (rules, zones and permits, stream configs): read at start-up and by the CLI, not answered over HTTP.
"""

from __future__ import annotations

from pathlib import Path


class ServiceError(Exception):
    """Base of every error the service logic raises on a request it cannot carry out.

    Attributes:
        field: The request field at fault, if one is (``None`` otherwise).
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


class NotFound(ServiceError):
    """The thing named by an id does not exist (HTTP 404)."""


class Conflict(ServiceError):
    """The current state forbids the action: claimed by someone else, already decided, already posted (HTTP 409)."""


class Invalid(ServiceError):
    """A value is malformed or unknown, whatever the state (HTTP 422)."""


class Forbidden(ServiceError):
    """The user is not allowed to do this (HTTP 403)."""


class FileFieldError(ValueError):
    """A file is missing or malformed; the message reads ``FILE: FIELD: REASON``.

    Attributes:
        path: The file at fault.
        field: Where in the file.
        reason: What is wrong, in words.
    """

    def __init__(self, path: Path | str, field_name: str, reason: str) -> None:
        super().__init__(f"{path}: {field_name}: {reason}")
        self.path = Path(path)
        self.field = field_name
        self.reason = reason
