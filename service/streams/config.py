"""Streams from a YAML file: a list of cameras with stream URLs.

The file is either a list, or a mapping with a ``cameras`` list::

    cameras:
      - key: cam-012                   # required, unique
        url: rtsp://10.0.0.12/main     # required: rtsp://, http(s):// MJPEG or HLS, or a local video file
        kind: fixed                    # fixed (default), ptz or patrol
        fps: 2                         # frames per second handed on (default 2), or "all"
        gate: true                     # motion gate (default: on for fixed cameras only)
        gate_ignore:                   # regions the gate never compares, as fractions x1, y1, x2, y2
          - [0.0, 0.0, 0.35, 0.08]     # the on-screen clock
        name: Gate of No. 3 Middle School   # optional, for people; not used by the workers

A relative file path in ``url`` is taken relative to the config file. Errors name the file and the field:
``streams.yaml: cameras[2].fps: must be a positive number or 'all', got -1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from service.errors import FileFieldError
from service.streams.spec import SpecError, StreamSpec
from vision.sources import is_stream_url

FIELDS = frozenset({"key", "url", "kind", "fps", "gate", "gate_ignore", "name"})


class StreamConfigError(FileFieldError):
    """A stream config file is missing or malformed; the message reads ``FILE: FIELD: REASON``.

    Attributes:
        path: The file at fault.
        field: Where in the file, e.g. ``cameras[2].url``.
        reason: What is wrong, in words.
    """


def load_stream_config(path: Path | str) -> list[StreamSpec]:
    """Reads the cameras of a stream config file.

    Args:
        path: The YAML file.

    Returns:
        One `StreamSpec` per camera, in file order.

    Raises:
        StreamConfigError: The file cannot be read, is not YAML, or a camera has a missing, unknown or bad field,
            or a key used twice.
    """
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise StreamConfigError(path, "file", f"cannot read ({error.strerror or error})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "file"
        raise StreamConfigError(path, where, f"not valid YAML ({getattr(error, 'problem', None) or error})") from None
    cameras, prefix = _camera_list(path, document)
    specs: list[StreamSpec] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(cameras):
        where = f"{prefix}[{index}]"
        if not isinstance(item, Mapping):
            raise StreamConfigError(path, where, f"must be a mapping with key and url, got {type(item).__name__}")
        unknown = sorted(str(name) for name in item if name not in FIELDS)
        if unknown:
            known = ", ".join(sorted(FIELDS))
            raise StreamConfigError(path, f"{where}.{unknown[0]}", f"unknown field (known: {known})")
        for required in ("key", "url"):
            if item.get(required) in (None, ""):
                raise StreamConfigError(path, f"{where}.{required}", "missing")
        try:
            spec = spec_from_mapping(item, base=path.parent)
        except SpecError as error:
            raise StreamConfigError(path, f"{where}.{error.field}", error.reason) from None
        if spec.key in seen:
            raise StreamConfigError(path, f"{where}.key", f"{spec.key!r} is also used by {prefix}[{seen[spec.key]}]")
        seen[spec.key] = index
        specs.append(spec)
    return specs


def spec_from_mapping(values: Mapping[str, Any], *, base: Path | None = None) -> StreamSpec:
    """Builds a spec from plain values (YAML, JSON or a camera's settings): ``fps: "all"``, lists as boxes.

    Args:
        values: ``key``, ``url`` and optionally ``kind``, ``fps``, ``gate``, ``gate_ignore``.
        base: Folder that a relative file path in ``url`` is relative to.

    Raises:
        SpecError: A value is bad; ``field`` names it.
    """
    url = values.get("url")
    if base is not None and isinstance(url, str) and url and not is_stream_url(url) and not Path(url).is_absolute():
        url = str(base / url)
    return StreamSpec(
        key=_text(values.get("key"), "key"),
        url=_text(url, "url"),
        kind=values.get("kind", "fixed"),
        fps=_fps(values.get("fps", 2.0)),
        gate=values.get("gate"),
        gate_ignore=_boxes(values.get("gate_ignore") or ()),
    )


def _camera_list(path: Path, document: Any) -> tuple[list[Any], str]:
    if document is None:
        raise StreamConfigError(path, "file", "empty: expected a list of cameras")
    if isinstance(document, Mapping):
        extra = sorted(str(name) for name in document if name != "cameras")
        if extra:
            raise StreamConfigError(path, extra[0], "unknown field (expected only 'cameras')")
        cameras = document.get("cameras")
        if not isinstance(cameras, list):
            raise StreamConfigError(path, "cameras", "must be a list of cameras")
        return cameras, "cameras"
    if isinstance(document, list):
        return document, "cameras"
    raise StreamConfigError(path, "file", f"expected a list of cameras, got {type(document).__name__}")


def _text(value: Any, name: str) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool) and name == "key":
        return str(value)  # `key: 12` in YAML is a number; the camera is still called "12"
    if not isinstance(value, str):
        raise SpecError(name, f"must be a string, got {value!r}")
    return value


def _fps(value: Any) -> float | None:
    if isinstance(value, str):
        if value.strip().lower() == "all":
            return None
        try:
            return float(value.strip().lower().removesuffix("fps"))
        except ValueError:
            raise SpecError("fps", f"must be a positive number or 'all', got {value!r}") from None
    return value  # StreamSpec checks the rest


def _boxes(value: Any) -> tuple[tuple[float, float, float, float], ...]:
    if not isinstance(value, list | tuple):
        raise SpecError("gate_ignore", f"must be a list of [x1, y1, x2, y2] fractions, got {value!r}")
    boxes = []
    for index, box in enumerate(value):
        if not isinstance(box, list | tuple) or len(box) != 4:
            raise SpecError(f"gate_ignore[{index}]", f"must be four numbers [x1, y1, x2, y2], got {box!r}")
        boxes.append(tuple(box))
    return tuple(boxes)  # StreamSpec checks the numbers
