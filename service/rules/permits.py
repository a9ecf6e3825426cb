"""Permits: approved signboards, banners, ad boards … at a place, for a period.

An observation of the permit's class within ``radius_m`` of its position, seen only on days the permit is valid,
is not a violation. Permits come from a YAML or JSON list (``permits.yaml`` / ``permits.json``) or a CSV with a
header row (``permits.csv``; what a department exports from a spreadsheet)::

    number,class,lat,lon,radius_m,valid_from,valid_to,holder
    GG-2024-0012,signboard,31.23040,121.47370,10,2024-01-01,2025-12-31,Lao Zhang noodles

``valid_to`` may be empty (no expiry); dates are inclusive, in the city's local calendar. Extra columns or keys
are ignored.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import shapely
import yaml

from service.geo import degree_box, distance_m
from service.rules.errors import RulesError
from vision.taxonomy import Taxonomy, load_taxonomy

PERMIT_FIELDS = ("number", "class", "lat", "lon", "radius_m", "valid_from", "valid_to")
_REQUIRED = ("number", "class", "lat", "lon", "radius_m", "valid_from")
MAX_RADIUS_M = 10_000.0  # larger is a typo (or a zone, which belongs in zones.geojson)


class _TextDateLoader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text, so a bad one (2024-13-01) is reported with its record and field."""


_TextDateLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class Permit:
    """One approval.

    Attributes:
        number: The permit number reasons cite, e.g. ``GG-2024-0012``.
        class_name: The class it approves, e.g. ``signboard``.
        lat: Latitude of the approved object (WGS-84).
        lon: Longitude of the approved object.
        radius_m: How far from that position an observation still counts as the approved object.
        valid_from: First day it is valid (local calendar).
        valid_to: Last day it is valid, inclusive; ``None`` for no expiry.
        holder: Who holds it, when known.
    """

    number: str
    class_name: str
    lat: float
    lon: float
    radius_m: float
    valid_from: date
    valid_to: date | None = None
    holder: str | None = None

    def __post_init__(self) -> None:
        if not self.number:
            raise ValueError("a permit needs a number")
        if not (-90.0 <= self.lat <= 90.0 and -180.0 <= self.lon <= 180.0):
            raise ValueError(f"permit {self.number}: ({self.lat}, {self.lon}) is not a latitude, longitude")
        if not 0.0 < self.radius_m <= MAX_RADIUS_M:
            raise ValueError(f"permit {self.number}: radius_m must be in (0, {MAX_RADIUS_M:g}], got {self.radius_m}")
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError(f"permit {self.number}: valid_to {self.valid_to} is before valid_from {self.valid_from}")

    def valid_on(self, day: date) -> bool:
        """Whether the permit is valid on a local calendar day."""
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def validity_text(self) -> str:
        """``valid 2024-01-01 to 2025-12-31`` (or ``valid from …`` without expiry)."""
        if self.valid_to is None:
            return f"valid from {self.valid_from.isoformat()}"
        return f"valid {self.valid_from.isoformat()} to {self.valid_to.isoformat()}"


@dataclass(frozen=True)
class PermitMatch:
    """A permit that covers an observation, and how far the object was from the permitted position."""

    permit: Permit
    distance_m: float


class PermitIndex:
    """Permits with a spatial index, answering "does a permit cover this object seen here, then?".

    Attributes:
        permits: The permits, as given.
        classes: Every class some permit is for.
    """

    def __init__(self, permits: Sequence[Permit], taxonomy: Taxonomy, tz: ZoneInfo) -> None:
        """Index the permits.

        Raises:
            ValueError: A permit's class is not in the taxonomy.
        """
        for permit in permits:
            if permit.class_name not in taxonomy:
                raise ValueError(f"permit {permit.number}: {permit.class_name!r} is not a class of {taxonomy.path}")
        self.permits = tuple(permits)
        self._tz = tz
        boxes = [shapely.box(*degree_box(p.lat, p.lon, p.radius_m)) for p in self.permits]
        self._tree = shapely.STRtree(boxes) if boxes else None
        self.classes = frozenset(permit.class_name for permit in self.permits)

    def find(self, class_name: str, point: shapely.Point, first: datetime, last: datetime) -> PermitMatch | None:
        """Return the nearest permit that covers ``class_name`` seen at ``point`` from ``first`` to ``last``.

        A permit covers it when ``point`` (longitude/latitude) is within its radius and it is valid on every local
        day from ``first`` to ``last``; ``None`` when no permit does.
        """
        if self._tree is None or class_name not in self.classes:
            return None
        candidates = [self.permits[index] for index in self._tree.query(point).tolist()]
        candidates = [permit for permit in candidates if permit.class_name == class_name]
        if not candidates:
            return None
        first_day, last_day = first.astimezone(self._tz).date(), last.astimezone(self._tz).date()
        lon, lat = point.x, point.y
        best: PermitMatch | None = None
        for permit in candidates:
            if not (permit.valid_on(first_day) and permit.valid_on(last_day)):
                continue
            distance = distance_m(lat, lon, permit.lat, permit.lon)
            if distance <= permit.radius_m and (best is None or distance < best.distance_m):
                best = PermitMatch(permit, distance)
        return best


def load_permits(path: Path | str, *, taxonomy: Taxonomy | None = None) -> tuple[Permit, ...]:
    """Read permits from ``.yaml`` / ``.yml`` / ``.json`` (a list of mappings) or ``.csv`` (a header row).

    Args:
        path: The file.
        taxonomy: Checks each permit's class; ``None`` reads ``models/taxonomy.yaml``.

    Raises:
        RulesError: The file is unreadable or of another kind, or a record misses a field, has a bad number or
            date, or an unknown class; the message names the file and ``[index].field`` or ``line N: field``.
    """
    source = Path(path)
    known = taxonomy if taxonomy is not None else load_taxonomy()
    suffix = source.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json", ".csv"):
        raise RulesError(source, "file", "permits must be a .yaml, .yml, .json or .csv file")
    try:
        text = source.read_text(encoding="utf-8-sig")  # spreadsheets write a byte-order mark
    except (OSError, UnicodeDecodeError) as error:
        raise RulesError(source, "file", f"cannot read: {error}") from error
    if suffix == ".csv":
        return _read_csv(source, text, known)
    try:
        records = yaml.load(text, Loader=_TextDateLoader)  # a SafeLoader; YAML reads JSON too
    except yaml.YAMLError as error:
        raise RulesError(source, "file", f"not valid YAML/JSON: {error}") from error
    if records is None:
        return ()
    if not isinstance(records, list):
        raise RulesError(source, "(top level)", f"expected a list of permits, got {type(records).__name__}")
    permits = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise RulesError(source, f"[{index}]", f"expected a mapping with {', '.join(_REQUIRED)}")
        permits.append(_permit(record, source, f"[{index}].", known))
    return tuple(permits)


def _read_csv(source: Path, text: str, taxonomy: Taxonomy) -> tuple[Permit, ...]:
    reader = csv.DictReader(io.StringIO(text, newline=""))  # keeps newlines inside quoted fields
    header = [name.strip() for name in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [name for name in _REQUIRED if name not in header]
    if missing:
        raise RulesError(source, "line 1 (header)", f"missing column(s) {', '.join(missing)}; have {header}")
    permits = []
    for row in reader:
        line = reader.line_num  # the record's last line, when a quoted field spans several
        record = {key: value.strip() for key, value in row.items() if isinstance(key, str) and value is not None}
        if not any(record.values()):
            continue  # blank line
        record = {key: value for key, value in record.items() if value != ""}
        permits.append(_permit(record, source, f"line {line}: ", taxonomy))
    return tuple(permits)


def _permit(record: dict[str, Any], source: Path, where: str, taxonomy: Taxonomy) -> Permit:
    """One permit from a record; ``where`` prefixes field names in messages (``[3].`` or ``line 4: ``)."""

    def fail(name: str, reason: str) -> RulesError:
        return RulesError(source, f"{where}{name}", reason)

    for name in _REQUIRED:
        if record.get(name) is None or str(record[name]).strip() == "":
            raise fail(name, "missing")
    class_name = record["class"]
    if class_name not in taxonomy:
        raise fail("class", f"{class_name!r} is not a class of {taxonomy.path} (known: {', '.join(taxonomy.names)})")
    lat, lon, radius = (_number(record, name, fail) for name in ("lat", "lon", "radius_m"))
    if not -90.0 <= lat <= 90.0:
        raise fail("lat", f"{lat} is not a latitude (-90..90; lat and lon swapped?)")
    if not -180.0 <= lon <= 180.0:
        raise fail("lon", f"{lon} is not a longitude (-180..180)")
    if not 0.0 < radius <= MAX_RADIUS_M:
        raise fail("radius_m", f"expected metres in (0, {MAX_RADIUS_M:g}], got {radius}")
    valid_from = _date(record, "valid_from", fail)
    valid_to = None if record.get("valid_to") is None else _date(record, "valid_to", fail)
    if valid_to is not None and valid_to < valid_from:
        raise fail("valid_to", f"{valid_to} is before valid_from {valid_from}")
    holder = record.get("holder")
    number = str(record["number"]).strip()
    return Permit(number, class_name, lat, lon, radius, valid_from, valid_to, None if holder is None else str(holder))


def _number(record: dict[str, Any], name: str, fail: Callable[[str, str], RulesError]) -> float:
    value = record[name]
    if isinstance(value, bool):
        raise fail(name, f"expected a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise fail(name, f"expected a number, got {value!r}") from None


def _date(record: dict[str, Any], name: str, fail: Callable[[str, str], RulesError]) -> date:
    value = record[name]
    if isinstance(value, datetime):
        raise fail(name, f"expected a date (YYYY-MM-DD), got the date-time {value.isoformat()}")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip().replace("/", "-"))
    except ValueError:
        raise fail(name, f"{value!r} is not a valid date (YYYY-MM-DD)") from None
