"""One external detection per JSON line: reading and checking it, with errors that name the line and the field.

A line looks like::

    {"source": "city-ai-7", "camera": "cam-012", "time": "2026-05-01T20:31:07+08:00", "lat": 30.27, "lon": 120.15,
     "class": "vendor_stall", "confidence": 0.81, "box": [10, 20, 200, 240], "track_id": "4711",
     "image": "frames/4711.jpg"}

``camera``, ``box``, ``track_id`` and ``image`` may be ``null`` or left out; other keys are ignored. ``time`` must
carry its time zone (``Z`` or ``+08:00``): a local time without one would silently land hours off. ``track_id``
may be a string or an integer. A relative ``image`` path is read from the JSONL file's folder.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

MAX_SOURCE_LENGTH = 1024
MAX_TRACK_ID_LENGTH = 120  # the stored key is "track:<id>" in 128 characters
MAX_CAMERA_LENGTH = 128


class LineError(ValueError):
    """A line that cannot be ingested; ``str()`` reads ``line N: field: reason``."""

    def __init__(self, line_number: int, field_name: str, reason: str) -> None:
        super().__init__(f"line {line_number}: {field_name}: {reason}")
        self.line_number = line_number
        self.field = field_name
        self.reason = reason


@dataclass(frozen=True)
class Detection:
    """One checked detection line.

    Attributes:
        line_number: 1-based line number in the file.
        source: The system or stream it came from.
        camera: The camera's key, if given.
        time: When it was seen (timezone-aware).
        lat: Latitude of the object.
        lon: Longitude of the object.
        class_name: Detector class (in the taxonomy).
        confidence: Detector confidence in ``[0, 1]``.
        box: ``x1, y1, x2, y2`` pixels, if given.
        track_id: The other system's track id, if it tracks.
        image: The frame file, if given (resolved; it may not exist).
        line_key: A key made from the line's content, so the same line always means the same detection.
    """

    line_number: int
    source: str
    camera: str | None
    time: datetime
    lat: float
    lon: float
    class_name: str
    confidence: float
    box: tuple[float, float, float, float] | None
    track_id: str | None
    image: Path | None
    line_key: str


def parse_line(text: str, *, line_number: int, known_classes: Collection[str], base_dir: Path) -> Detection:
    """Read one JSON line.

    Args:
        text: The line (without or with its newline).
        line_number: Its 1-based number, for messages.
        known_classes: Class names the taxonomy knows; others are refused.
        base_dir: Folder relative ``image`` paths start from.

    Raises:
        LineError: Not a JSON object, or a field missing, of the wrong type or out of range.
    """
    stripped = text.strip()
    try:
        raw = json.loads(stripped)
    except json.JSONDecodeError as error:
        raise LineError(line_number, "line", f"not valid JSON: {error.msg} at column {error.colno}") from error
    if not isinstance(raw, dict):
        raise LineError(line_number, "line", f"expected a JSON object, got {type(raw).__name__}")
    fields = _Fields(raw, line_number)
    class_name = fields.text("class")
    if class_name not in known_classes:
        raise LineError(line_number, "class", f"{class_name!r} is not a known class ({', '.join(known_classes)})")
    image = fields.optional_text("image")
    return Detection(
        line_number=line_number,
        source=fields.text("source"),
        camera=fields.optional_text("camera", max_length=MAX_CAMERA_LENGTH),
        time=fields.time("time"),
        lat=fields.number("lat", -90.0, 90.0),
        lon=fields.number("lon", -180.0, 180.0),
        class_name=class_name,
        confidence=fields.number("confidence", 0.0, 1.0),
        box=fields.box("box"),
        track_id=fields.track_id("track_id"),
        image=(base_dir / image) if image else None,
        line_key="line:" + hashlib.sha256(stripped.encode()).hexdigest()[:32],
    )


@dataclass(frozen=True)
class _Fields:
    """Typed reads of one line's fields; each failure names the field."""

    raw: dict[str, Any]
    line_number: int

    def fail(self, name: str, reason: str) -> LineError:
        return LineError(self.line_number, name, reason)

    def text(self, name: str, *, max_length: int = MAX_SOURCE_LENGTH) -> str:
        value = self.optional_text(name, max_length=max_length)
        if value is None:
            raise self.fail(name, "missing")
        return value

    def optional_text(self, name: str, *, max_length: int = MAX_SOURCE_LENGTH) -> str | None:
        value = self.raw.get(name)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise self.fail(name, f"expected a non-empty string, got {value!r}")
        if len(value) > max_length:
            raise self.fail(name, f"longer than {max_length} characters")
        return value

    def number(self, name: str, low: float, high: float) -> float:
        value = self.raw.get(name)
        if value is None:
            raise self.fail(name, "missing")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.fail(name, f"expected a number, got {value!r}")
        if not low <= value <= high:
            raise self.fail(name, f"{value} is outside [{low:g}, {high:g}]")
        return float(value)

    def time(self, name: str) -> datetime:
        value = self.text(name)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as error:
            raise self.fail(name, f"{value!r} is not an ISO-8601 time") from error
        if parsed.tzinfo is None:
            raise self.fail(name, f"{value!r} has no time zone; add Z or an offset such as +08:00")
        return parsed

    def box(self, name: str) -> tuple[float, float, float, float] | None:
        value = self.raw.get(name)
        if value is None:
            return None
        if (
            not isinstance(value, list)
            or len(value) != 4
            or not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in value)
        ):
            raise self.fail(name, f"expected [x1, y1, x2, y2] numbers, got {value!r}")
        x1, y1, x2, y2 = (float(v) for v in value)
        if x2 < x1 or y2 < y1:
            raise self.fail(name, f"x2 < x1 or y2 < y1 in {value!r}")
        return (x1, y1, x2, y2)

    def track_id(self, name: str) -> str | None:
        value = self.raw.get(name)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value:
            raise self.fail(name, f"expected a non-empty string or an integer, got {value!r}")
        if len(value) > MAX_TRACK_ID_LENGTH:
            raise self.fail(name, f"longer than {MAX_TRACK_ID_LENGTH} characters")
        return value
