"""Reading zones from a GeoJSON FeatureCollection, with errors that name the file, the feature and the field.

Each feature is one zone::

    {"type": "Feature",
     "geometry": {"type": "Polygon", "coordinates": [[[121.4701, 31.2301], ..., [121.4701, 31.2301]]]},
     "properties": {"name": "Night market", "allow": ["vendor_stall"], "hours": ["18:00-23:00"],
                    "weekdays": ["fri", "sat", "sun"]}}

Properties: ``name`` (required, unique); ``allow`` and/or ``deny``: lists of class names or violation types;
``hours``: a window or a list of them (``"18:00-23:00"``, overnight ``"22:00-02:00"``), for ``allow`` only;
``weekdays``: names or ISO numbers, the days a window opens on (alone, it means all day on those days);
``buffer_m``: grow the geometry by this many metres (a ``Point`` geometry with ``buffer_m`` is a circle).
Other properties (from a GIS tool) are ignored. Coordinates are WGS-84 longitude, latitude, like GPS; polygons
drawn on Chinese web maps (GCJ-02, BD-09) are offset by hundreds of metres and must be converted first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import shapely
from shapely.geometry.base import BaseGeometry

from service.geo import buffer_m
from service.rules.errors import RulesError
from service.rules.hours import MINUTES_PER_DAY, TimeWindow, parse_weekdays
from service.rules.zones import Zone
from vision.taxonomy import Taxonomy, load_taxonomy


def load_zones(path: Path | str, *, taxonomy: Taxonomy | None = None) -> tuple[Zone, ...]:
    """Read zones from a GeoJSON FeatureCollection.

    Args:
        path: The ``.geojson`` file.
        taxonomy: Checks the names in ``allow`` / ``deny``; ``None`` reads ``models/taxonomy.yaml``.

    Returns:
        The zones, in file order.

    Raises:
        RulesError: The file is unreadable or not JSON, not a FeatureCollection, a geometry is not a polygon, a
            ring does not close or a polygon is invalid, or a property is missing or wrong; the message names the
            file and e.g. ``features[3].properties.hours[0]``.
    """
    source = Path(path)
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
    except OSError as error:
        raise RulesError(source, "file", f"cannot read: {error}") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RulesError(source, "file", f"not valid JSON: {error}") from error
    reader = _Reader(source, taxonomy if taxonomy is not None else load_taxonomy())
    if not isinstance(raw, dict) or raw.get("type") != "FeatureCollection":
        reader.fail("type", 'expected a GeoJSON object with "type": "FeatureCollection"')
    features = raw.get("features")
    if not isinstance(features, list):
        reader.fail("features", "expected a list of features")
    zones = tuple(reader.zone(feature, f"features[{index}]") for index, feature in enumerate(features))
    first_with_name: dict[str, int] = {}
    for index, zone in enumerate(zones):
        if zone.name in first_with_name:
            earlier = first_with_name[zone.name]
            reader.fail(f"features[{index}].properties.name", f"{zone.name!r} repeats features[{earlier}]")
        first_with_name[zone.name] = index
    return zones


@dataclass(frozen=True)
class _Reader:
    path: Path
    taxonomy: Taxonomy

    def fail(self, field_name: str, reason: str) -> NoReturn:
        raise RulesError(self.path, field_name, reason)

    def zone(self, feature: Any, where: str) -> Zone:
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            self.fail(where, 'expected an object with "type": "Feature"')
        properties = feature.get("properties")
        if not isinstance(properties, dict):
            self.fail(f"{where}.properties", "expected an object with at least a name and allow or deny")
        where_props = f"{where}.properties"
        name = properties.get("name")
        if not isinstance(name, str) or not name.strip():
            self.fail(f"{where_props}.name", f"expected a non-empty string, got {name!r}")
        allow = self.names(properties, "allow", where_props)
        deny = self.names(properties, "deny", where_props)
        if not allow and not deny:
            self.fail(where_props, f'zone "{name}" needs a non-empty allow or deny list')
        hours = self.hours(properties, where_props)
        if hours and not allow:
            self.fail(f"{where_props}.hours", "hours apply to allow; a deny-only zone is in force at all times")
        geometry = self.geometry(feature.get("geometry"), f"{where}.geometry", self.buffer(properties, where_props))
        return Zone(name.strip(), geometry, allow, deny, hours)

    def names(self, properties: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
        values = properties.get(key)
        if values is None:
            return ()
        if not isinstance(values, list):
            self.fail(f"{where}.{key}", f"expected a list of class names or violation types, got {values!r}")
        for index, value in enumerate(values):
            if value not in self.taxonomy and value not in self.taxonomy.violation_types:
                self.fail(
                    f"{where}.{key}[{index}]",
                    f"{value!r} is neither a class nor a violation type of {self.taxonomy.path} "
                    f"(classes: {', '.join(self.taxonomy.names)}; types: {', '.join(self.taxonomy.violation_types)})",
                )
        return tuple(values)

    def hours(self, properties: dict[str, Any], where: str) -> tuple[TimeWindow, ...]:
        weekdays = None
        if properties.get("weekdays") is not None:
            raw_days = properties["weekdays"]
            try:
                weekdays = parse_weekdays(raw_days if isinstance(raw_days, list) else [raw_days])
            except ValueError as error:
                self.fail(f"{where}.weekdays", str(error))
        raw = properties.get("hours")
        if raw is None:
            return (TimeWindow(0, MINUTES_PER_DAY, weekdays),) if weekdays is not None else ()
        if isinstance(raw, str):
            items = [(f"{where}.hours", raw)]
        elif isinstance(raw, list) and raw:
            items = [(f"{where}.hours[{index}]", text) for index, text in enumerate(raw)]
        else:
            self.fail(f"{where}.hours", f'expected a window like "18:00-23:00" or a non-empty list, got {raw!r}')
        windows = []
        for field_name, text in items:
            try:
                windows.append(TimeWindow.parse(text, weekdays))
            except ValueError as error:
                self.fail(field_name, str(error))
        return tuple(windows)

    def buffer(self, properties: dict[str, Any], where: str) -> float:
        value = properties.get("buffer_m", 0)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 10_000:
            self.fail(f"{where}.buffer_m", f"expected metres between 0 and 10000, got {value!r}")
        return float(value)

    def geometry(self, raw: Any, where: str, buffer: float) -> BaseGeometry:
        if not isinstance(raw, dict):
            self.fail(where, f"expected a Polygon or MultiPolygon geometry, got {raw!r}")
        kind, coordinates = raw.get("type"), raw.get("coordinates")
        if kind == "Polygon":
            geometry: BaseGeometry = self.polygon(coordinates, f"{where}.coordinates")
        elif kind == "MultiPolygon":
            if not isinstance(coordinates, list) or not coordinates:
                self.fail(f"{where}.coordinates", "expected a non-empty list of polygons")
            geometry = shapely.MultiPolygon(
                [self.polygon(polygon, f"{where}.coordinates[{index}]") for index, polygon in enumerate(coordinates)]
            )
        elif kind == "Point" and buffer > 0:
            geometry = shapely.Point(self.position(coordinates, f"{where}.coordinates"))
        else:
            self.fail(f"{where}.type", f"expected Polygon or MultiPolygon (or a Point with buffer_m > 0), got {kind!r}")
        if not geometry.is_valid:
            self.fail(where, f"invalid {kind}: {shapely.is_valid_reason(geometry)}")
        return buffer_m(geometry, buffer)

    def polygon(self, rings: Any, where: str) -> shapely.Polygon:
        if not isinstance(rings, list) or not rings:
            self.fail(where, "expected a list of linear rings (outer ring first, then holes)")
        shell, *holes = (self.ring(ring, f"{where}[{index}]") for index, ring in enumerate(rings))
        return shapely.Polygon(shell, holes)

    def ring(self, positions: Any, where: str) -> list[tuple[float, float]]:
        if not isinstance(positions, list) or len(positions) < 4:
            self.fail(where, "a linear ring needs at least 4 positions (the first repeated at the end)")
        points = [self.position(position, f"{where}[{index}]") for index, position in enumerate(positions)]
        if points[0] != points[-1]:
            self.fail(
                where,
                f"ring is not closed: first position {list(points[0])} differs from last {list(points[-1])} "
                "(GeoJSON repeats the first position at the end)",
            )
        return points

    def position(self, position: Any, where: str) -> tuple[float, float]:
        if (
            not isinstance(position, list)
            or len(position) < 2
            or not all(isinstance(value, int | float) and not isinstance(value, bool) for value in position[:2])
        ):
            self.fail(where, f"expected [longitude, latitude], got {position!r}")
        lon, lat = float(position[0]), float(position[1])
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            self.fail(where, f"[{lon}, {lat}] is not [longitude, latitude] in degrees (GeoJSON puts longitude first)")
        return (lon, lat)
