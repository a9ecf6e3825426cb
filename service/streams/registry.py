"""The cameras registered in the database, as stream specifications.

A camera is watched when it is enabled and has a ``stream_url``. Its ``settings`` may hold a ``stream`` mapping
with the same options as a config file entry: ``{"stream": {"fps": 2, "gate": true, "gate_ignore": [[...]]}}``.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.models.cameras import Camera
from service.streams.config import spec_from_mapping
from service.streams.spec import SpecError, StreamSpec

STREAM_OPTIONS = frozenset({"fps", "gate", "gate_ignore"})


def camera_stream_specs(session: Session) -> tuple[list[StreamSpec], dict[str, str]]:
    """The enabled cameras with a stream URL, as specs ordered by key.

    Args:
        session: A database session (only read).

    Returns:
        The specs, and for cameras whose stream options are bad, their key with the reason naming the field.
    """
    cameras = session.scalars(
        select(Camera).where(Camera.enabled.is_(True), Camera.stream_url.is_not(None)).order_by(Camera.key)
    )
    specs: list[StreamSpec] = []
    invalid: dict[str, str] = {}
    for camera in cameras:
        if not camera.stream_url:
            continue
        try:
            specs.append(camera_spec(camera))
        except SpecError as error:
            invalid[camera.key] = str(error)
    return specs, invalid


def camera_spec(camera: Camera) -> StreamSpec:
    """One camera's stream specification.

    Raises:
        SpecError: The camera's stream options are bad; ``field`` names the column or option
            (``stream_url``, ``kind``, ``settings.stream.fps`` ...).
    """
    options = (camera.settings or {}).get("stream") or {}
    if not isinstance(options, Mapping):
        raise SpecError("settings.stream", f"must be a mapping of stream options, got {options!r}")
    unknown = sorted(str(name) for name in options if name not in STREAM_OPTIONS)
    if unknown:
        raise SpecError(f"settings.stream.{unknown[0]}", f"unknown option (known: {', '.join(sorted(STREAM_OPTIONS))})")
    try:
        return spec_from_mapping({**options, "key": camera.key, "url": camera.stream_url, "kind": camera.kind})
    except SpecError as error:
        column = _COLUMNS.get(error.field, f"settings.stream.{error.field}")
        raise SpecError(column, error.reason) from None


_COLUMNS = {"key": "key", "url": "stream_url", "kind": "kind"}
