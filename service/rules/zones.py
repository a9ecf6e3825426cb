"""Zones: areas on the map where some classes are allowed (at some hours) or always denied.

A night market allows ``vendor_stall`` 18:00-23:00; a market hall allows ``street_occupation`` at all times; the
area within 50 m of a school denies ``vendor_stall`` even where a market zone overlaps it. Reading zones from
GeoJSON is in :mod:`service.rules.geojson`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import shapely
from shapely.geometry.base import BaseGeometry

from service.rules.hours import TimeWindow, within_windows
from vision.taxonomy import Taxonomy


@dataclass(frozen=True)
class Zone:
    """One zone.

    Attributes:
        name: What reviewers see in reasons, e.g. ``Night market``.
        geometry: A shapely Polygon or MultiPolygon in longitude/latitude (WGS-84) degrees.
        allow: Class names or violation types (``street_occupation``) allowed inside.
        deny: Class names or violation types never allowed inside, whatever an overlapping zone allows; permits
            still apply.
        hours: When ``allow`` holds, in the city's local time; empty means at all times. ``deny`` always holds.
    """

    name: str
    geometry: BaseGeometry
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    hours: tuple[TimeWindow, ...] = ()

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a zone needs a name")
        if not self.allow and not self.deny:
            raise ValueError(f'zone "{self.name}" allows and denies nothing')
        if self.hours and not self.allow:
            raise ValueError(f'zone "{self.name}": hours apply to allow; a deny-only zone is in force at all times')
        if self.geometry.geom_type not in ("Polygon", "MultiPolygon") or self.geometry.is_empty:
            raise ValueError(f'zone "{self.name}": geometry must be a non-empty Polygon or MultiPolygon')

    def hours_text(self) -> str:
        """The hours as reasons show them, e.g. ``18:00-23:00``; empty when the zone allows at all times."""
        return ", ".join(str(window) for window in self.hours)


@dataclass(frozen=True)
class ZoneDecision:
    """What the zones say about one observation.

    Attributes:
        allowed: Whether a zone allows the object there at that time.
        reason: Why it is allowed; for one that is not, a note when a zone was involved (denied, or outside
            the allowed hours), else ``None``.
    """

    allowed: bool
    reason: str | None


class ZoneIndex:
    """Zones with a spatial index, answering "is this class allowed at this point at this time?".

    Attributes:
        zones: The zones, as given.
        classes: Every class some zone allows or denies; zones say nothing about the others.
    """

    def __init__(self, zones: Sequence[Zone], taxonomy: Taxonomy, tz: ZoneInfo) -> None:
        """Index the zones.

        Args:
            zones: The zones, in any order.
            taxonomy: Resolves violation types in ``allow`` / ``deny`` to class names.
            tz: The city's time zone, for the hours.

        Raises:
            ValueError: A name in ``allow`` or ``deny`` is neither a class nor a violation type.
        """
        self.zones = tuple(zones)
        self._tz = tz
        self._allow = [_resolve(zone, zone.allow, "allow", taxonomy) for zone in self.zones]
        self._deny = [_resolve(zone, zone.deny, "deny", taxonomy) for zone in self.zones]
        geometries = [zone.geometry for zone in self.zones]
        for geometry in geometries:
            shapely.prepare(geometry)  # point-in-polygon on a prepared geometry is near constant time
        self._tree = shapely.STRtree(geometries) if geometries else None
        self.classes = frozenset().union(*self._allow, *self._deny)

    def decide(
        self, class_name: str, point: shapely.Point, first: datetime, last: datetime, grace_seconds: float
    ) -> ZoneDecision:
        """Decide whether zones allow ``class_name`` seen at ``point`` from ``first`` to ``last``.

        Args:
            class_name: The observation's class.
            point: Where the object is, longitude/latitude.
            first: When it was first seen (aware).
            last: When it was last seen (aware).
            grace_seconds: Time outside a zone's hours that is forgiven (see
                :func:`service.rules.hours.within_windows`).
        """
        allowing: list[Zone] = []
        denying: list[Zone] = []
        if class_name not in self.classes:
            return ZoneDecision(False, None)
        for index in self._containing(point):
            if class_name in self._deny[index]:
                denying.append(self.zones[index])
            if class_name in self._allow[index]:
                allowing.append(self.zones[index])
        if denying:
            note = f'zone "{denying[0].name}" denies {class_name}'
            if allowing:
                note += f' (overrides zone "{allowing[0].name}")'
            return ZoneDecision(False, note)
        if not allowing:
            return ZoneDecision(False, None)
        return self._decide_hours(class_name, allowing, first, last, grace_seconds)

    def _containing(self, point: shapely.Point) -> list[int]:
        if self._tree is None:
            return []
        hits = self._tree.query(point).tolist()  # bounding boxes only: cheap
        lon, lat = point.x, point.y
        return sorted(index for index in hits if shapely.intersects_xy(self.zones[index].geometry, lon, lat))

    def _decide_hours(
        self, class_name: str, allowing: list[Zone], first: datetime, last: datetime, grace_seconds: float
    ) -> ZoneDecision:
        for zone in allowing:
            if not zone.hours or within_windows(zone.hours, self._tz, first, last, grace_seconds):
                hours = f" {zone.hours_text()}" if zone.hours else ""
                return ZoneDecision(True, f'zone "{zone.name}" allows {class_name}{hours}')
        listed = ", ".join(f'"{zone.name}" ({zone.hours_text()})' for zone in allowing)
        windows = [window for zone in allowing for window in zone.hours]
        if len(allowing) > 1 and within_windows(windows, self._tz, first, last, grace_seconds):
            return ZoneDecision(True, f"zones {listed} together allow {class_name}")
        plural = "s" if len(allowing) > 1 else ""
        return ZoneDecision(False, f"outside the hours of zone{plural} {listed} for {class_name}")


def _resolve(zone: Zone, names: tuple[str, ...], field_name: str, taxonomy: Taxonomy) -> frozenset[str]:
    classes: set[str] = set()
    for name in names:
        if name in taxonomy:
            classes.add(name)
        elif name in taxonomy.violation_types:
            classes.update(detector_class.name for detector_class in taxonomy.classes_of(name))
        else:
            raise ValueError(
                f'zone "{zone.name}": {field_name}: {name!r} is neither a class nor a violation type of '
                f"{taxonomy.path} (classes: {', '.join(taxonomy.names)}; types: {', '.join(taxonomy.violation_types)})"
            )
    return frozenset(classes)
