"""Reading GPS track files: GPX (gpxpy), NMEA 0183 (pynmea2: RMC and GGA) and CSV, told apart by their content.

Each reader returns the fixes in file order with the line each came from, so ``GpsTrack`` can name the line of a
fix that goes back in time or jumps across the city.

CSV: a header row, then one fix per row; comma, semicolon or tab separated. Column names are matched without
regard to case, spaces or units in brackets:

- time (required): ``time``, ``timestamp``, ``datetime``, ``date_time``, ``utc``, ``gps_time``: ISO-8601
  (``2024-05-06T09:30:00Z``, ``2024-05-06 09:30:00+08:00``; times without a zone are read in ``naive_tz``,
  UTC by default) or Unix epoch seconds;
- latitude (required): ``lat``, ``latitude``; longitude (required): ``lon``, ``lng``, ``long``, ``longitude``;
- speed (optional): ``speed``, ``speed_mps``, ``speed_ms`` in m/s, or ``speed_kmh``, ``speed_kph`` in km/h;
- heading (optional): ``heading``, ``heading_deg``, ``course``, ``bearing``, ``track``: degrees from north;
- accuracy (optional): ``accuracy``, ``accuracy_m``, ``hacc``, ``horizontal_accuracy`` in metres, or ``hdop``.

Empty optional cells are fine. Fixes at exactly ``(0, 0)`` are loggers' "no fix yet" rows and are skipped, as are
NMEA sentences flagged void (RMC status ``V``, GGA quality 0).
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path

import gpxpy
import gpxpy.gpx
import pynmea2

from vision.geo.errors import TrackError

FORMATS = ("gpx", "nmea", "csv")
HDOP_TO_M = 5.0  # one-sigma horizontal metres per unit of HDOP (a typical receiver's range error)
_KNOTS = 0.514_444  # m/s per knot

_CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "time": ("time", "timestamp", "datetime", "date_time", "utc", "gps_time"),
    "lat": ("lat", "latitude"),
    "lon": ("lon", "lng", "long", "longitude"),
    "speed": ("speed", "speed_mps", "speed_ms"),
    "speed_kmh": ("speed_kmh", "speed_kph"),
    "heading": ("heading", "heading_deg", "course", "bearing", "track"),
    "accuracy": ("accuracy", "accuracy_m", "hacc", "horizontal_accuracy"),
    "hdop": ("hdop",),
}


@dataclass(frozen=True)
class GpsFix:
    """One position of a GPS track.

    Attributes:
        time: When, timezone-aware.
        lat: Latitude, degrees.
        lon: Longitude, degrees.
        speed_mps: Speed over ground the receiver reported, when it did.
        heading_deg: Course over ground the receiver reported (degrees clockwise from north), when it did.
        accuracy_m: One-sigma horizontal error the file states (or HDOP × 5 m), when it does.
    """

    time: datetime
    lat: float
    lon: float
    speed_mps: float | None = None
    heading_deg: float | None = None
    accuracy_m: float | None = None


@dataclass(frozen=True)
class NumberedFix:
    """A fix and the 1-based line of the file it came from (None when the format gives no line)."""

    fix: GpsFix
    line: int | None


def detect_format(text: str, path: Path) -> str:
    """``"gpx"``, ``"nmea"`` or ``"csv"`` from the first non-blank line, whatever the extension.

    A ``.csv`` file whose header names no latitude/longitude still goes to the CSV reader, which says which
    column is missing.

    Raises:
        TrackError: The content is none of the three.
    """
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not first:
        raise TrackError(str(path), "the file is empty: no GPS fixes")
    if first.startswith("<"):
        return "gpx"
    if first.startswith(("$", "!")):
        return "nmea"
    header = {_column_key(name) for name in re.split(r"[,;\t]", first)}
    if header & set(_CSV_COLUMNS["lat"]) and header & set(_CSV_COLUMNS["lon"]):
        return "csv"
    suffix = path.suffix.lower().lstrip(".")
    if suffix == "csv":
        return "csv"  # let the CSV reader say which column is missing
    raise TrackError(str(path), "not a GPS track: expected GPX (XML), NMEA ($GPRMC/$GPGGA lines) or CSV with lat/lon")


def read_gpx(text: str, source: str) -> list[NumberedFix]:
    """Every track point of every track and segment of a GPX document, in order."""
    lines: list[int | None] = list(_trkpt_lines(text))
    _check_gpx_numbers(text, source)
    try:
        document = gpxpy.parse(text)
    except gpxpy.gpx.GPXException as error:
        raise TrackError(source, f"not valid GPX: {error}") from None
    points = list(document.walk(only_points=True))
    if len(points) != len(lines):
        lines = [None] * len(points)  # tags inside comments or CDATA: cannot tie points to lines
    out = []
    for index, (point, line) in enumerate(zip(points, lines, strict=True)):
        if point.time is None:
            raise TrackError(source, f"track point {index + 1} has no valid <time>", line)
        accuracy = point.horizontal_dilution * HDOP_TO_M if point.horizontal_dilution else None
        fix = GpsFix(_aware(point.time, UTC), point.latitude, point.longitude, point.speed, point.course, accuracy)
        out.append(NumberedFix(fix, line))
    return out


def _trkpt_lines(text: str) -> list[int]:
    """Line numbers of the ``<trkpt`` tags in document order (counting newlines once through the text)."""
    lines, line, position = [], 1, 0
    for match in re.finditer(r"<(?:[\w.-]+:)?trkpt\b", text):
        line += text.count("\n", position, match.start())
        position = match.start()
        lines.append(line)
    return lines


def _check_gpx_numbers(text: str, source: str) -> None:
    """Name the line of a ``lat``/``lon`` attribute that is not a number (gpxpy's own error does not)."""
    for match in re.finditer(r"<(?:[\w.-]+:)?trkpt\b[^>]*>", text):
        for name, value in re.findall(r"\b(lat|lon)\s*=\s*[\"']([^\"']*)[\"']", match.group(0)):
            try:
                float(value)
            except ValueError:
                line = text.count("\n", 0, match.start()) + 1
                raise TrackError(source, f"{name}={value!r} is not a number", line) from None


@dataclass(frozen=True)
class _Reading:
    """What one RMC or GGA sentence says."""

    kind: str
    clock: time
    day: date | None
    valid: bool
    lat: float
    lon: float
    speed_mps: float | None
    heading_deg: float | None
    accuracy_m: float | None


def read_nmea(text: str, source: str, first_date: date | None = None) -> list[NumberedFix]:
    """RMC and GGA sentences merged per epoch; other sentences are skipped.

    GGA carries no date: it takes the date of the RMC sentences around it, or ``first_date`` for a GGA-only log
    (rolling over at midnight).
    """
    fixes: list[NumberedFix] = []
    pending: list[tuple[int, _Reading]] = []  # GGA before the first RMC date
    current = first_date
    last_clock: time | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        reading = _read_sentence(line, source, number)
        if reading is None:
            continue
        if reading.day is not None:
            current = reading.day
            for early_number, early in pending:
                _add_epoch(fixes, early, current, early_number)
            pending.clear()
        elif current is not None and last_clock is not None and _past_midnight(last_clock, reading.clock):
            current += timedelta(days=1)  # a GGA-only stretch past midnight
        last_clock = reading.clock
        if current is None:
            pending.append((number, reading))
        else:
            _add_epoch(fixes, reading, current, number)
    if pending:
        raise TrackError(source, "GGA sentences carry no date and no RMC sentence gives one; pass the date", None)
    return fixes


def _read_sentence(line: str, source: str, number: int) -> _Reading | None:
    """The RMC or GGA sentence on ``line`` (None for other sentence types); malformed ones are errors."""
    if not line.startswith(("$", "!")):
        raise TrackError(source, f"not an NMEA sentence: {line[:40]!r}", number)
    try:
        sentence = pynmea2.parse(line)
    except (pynmea2.ParseError, ValueError, AttributeError, TypeError) as error:
        raise TrackError(source, f"malformed NMEA sentence ({_first_arg(error)}): {line[:60]!r}", number) from None
    kind = getattr(sentence, "sentence_type", "")
    if kind not in ("RMC", "GGA"):
        return None
    try:
        clock, day = sentence.timestamp, sentence.datestamp if kind == "RMC" else None
        valid = sentence.status == "A" if kind == "RMC" else _int(sentence.gps_qual) > 0
        lat, lon = (float(sentence.latitude), float(sentence.longitude)) if valid else (0.0, 0.0)
    except (TypeError, ValueError, AttributeError) as error:
        raise TrackError(source, f"malformed {kind} sentence ({_first_arg(error)}): {line[:60]!r}", number) from None
    if not isinstance(clock, time) or (kind == "RMC" and valid and not isinstance(day, date)):
        raise TrackError(source, f"{kind} sentence without a valid time or date: {line[:60]!r}", number)
    if kind == "RMC":
        speed = _float(sentence.spd_over_grnd)
        speed_mps = speed * _KNOTS if speed is not None else None
        return _Reading(kind, clock, day, valid, lat, lon, speed_mps, _float(sentence.true_course), None)
    hdop = _float(sentence.horizontal_dil)
    return _Reading(kind, clock, None, valid, lat, lon, None, None, hdop * HDOP_TO_M if hdop else None)


def _first_arg(error: Exception) -> str:
    return str(error.args[0]) if error.args else type(error).__name__


def _past_midnight(before: time, after: time) -> bool:
    """Whether the clock went from ``before`` to ``after`` across midnight (back by more than 12 hours)."""
    return _seconds(before) - _seconds(after) > 12 * 3600


def _seconds(clock: time) -> float:
    return clock.hour * 3600 + clock.minute * 60 + clock.second + clock.microsecond / 1e6


def _add_epoch(fixes: list[NumberedFix], reading: _Reading, day: date, number: int) -> None:
    """Append a valid reading as a fix, or fill in the previous fix when it is the same epoch's other sentence."""
    if not reading.valid:
        return
    moment = datetime.combine(day, reading.clock.replace(tzinfo=None), tzinfo=UTC)
    fix = GpsFix(moment, reading.lat, reading.lon, reading.speed_mps, reading.heading_deg, reading.accuracy_m)
    if not fixes or fixes[-1].fix.time != moment:
        fixes.append(NumberedFix(fix, number))
        return
    old = fixes[-1].fix
    fixes[-1] = NumberedFix(
        GpsFix(
            old.time,
            old.lat,
            old.lon,
            old.speed_mps if old.speed_mps is not None else fix.speed_mps,
            old.heading_deg if old.heading_deg is not None else fix.heading_deg,
            old.accuracy_m if old.accuracy_m is not None else fix.accuracy_m,
        ),
        fixes[-1].line,
    )


def read_csv(text: str, source: str, naive_tz: tzinfo = UTC) -> list[NumberedFix]:
    """One fix per row under a header (see the module docstring for the accepted columns)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None)
    while header is not None and not any(cell.strip() for cell in header):
        header = next(reader, None)
    if header is None:
        raise TrackError(source, "the file is empty: no GPS fixes")
    columns = _csv_columns(header, source, reader.line_num)
    out = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        fix = _csv_fix(row, columns, source, reader.line_num, naive_tz)
        if fix is not None:
            out.append(NumberedFix(fix, reader.line_num))
    return out


def _column_key(name: str) -> str:
    """``"Speed (km/h)"`` → ``"speed_kmh"``; ``" Latitude "`` → ``"latitude"``."""
    name = name.strip().strip('"').lower().replace("km/h", "kmh").replace("m/s", "mps")
    name = re.sub(r"[^a-z0-9]+", "_", name).strip("_")
    return name


def _csv_columns(header: list[str], source: str, line: int) -> dict[str, int]:
    keys = [_column_key(name) for name in header]
    columns: dict[str, int] = {}
    for field, names in _CSV_COLUMNS.items():
        for index, key in enumerate(keys):
            if key in names and field not in columns:
                columns[field] = index
    for field in ("time", "lat", "lon"):
        if field not in columns:
            accepted = ", ".join(_CSV_COLUMNS[field])
            raise TrackError(source, f"no {field} column in the header {header} (accepted: {accepted})", line)
    return columns


def _csv_fix(row: list[str], columns: dict[str, int], source: str, line: int, naive_tz: tzinfo) -> GpsFix | None:
    def cell(field: str) -> str:
        index = columns.get(field)
        return row[index].strip() if index is not None and index < len(row) else ""

    def number(field: str) -> float | None:
        value = cell(field)
        if not value:
            return None
        try:
            parsed = float(value)
        except ValueError:
            raise TrackError(source, f"{field} {value!r} is not a number", line) from None
        if not math.isfinite(parsed):
            raise TrackError(source, f"{field} {value!r} is not a finite number", line)
        return parsed

    lat, lon = number("lat"), number("lon")
    if lat is None or lon is None:
        raise TrackError(source, "a row without latitude or longitude", line)
    if lat == 0.0 and lon == 0.0:
        return None  # a logger's "no fix yet" row
    moment = _csv_time(cell("time"), source, line, naive_tz)
    speed, kmh = number("speed"), number("speed_kmh")
    accuracy, hdop = number("accuracy"), number("hdop")
    return GpsFix(
        moment,
        lat,
        lon,
        speed if speed is not None else (kmh / 3.6 if kmh is not None else None),
        number("heading"),
        accuracy if accuracy is not None else (hdop * HDOP_TO_M if hdop is not None else None),
    )


def _csv_time(value: str, source: str, line: int, naive_tz: tzinfo) -> datetime:
    if not value:
        raise TrackError(source, "a row without a time", line)
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds):
            raise TrackError(source, f"time {value!r} is not a time", line)
        return datetime.fromtimestamp(seconds, UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise TrackError(source, f"time {value!r} is neither ISO-8601 nor Unix seconds", line) from None
    return _aware(moment, naive_tz)


def _aware(moment: datetime, naive_tz: tzinfo) -> datetime:
    """Attach ``naive_tz`` to a naive time; express every time in UTC."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=naive_tz)
    return moment.astimezone(UTC)


def _float(value: object) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0
