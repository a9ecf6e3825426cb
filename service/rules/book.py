"""The rule book: whether one observation becomes a violation candidate, and why not when it does not.

Rules, in the order they are applied (the first that drops an observation gives the reason):

1. The class must be in the taxonomy and not scene context (``window``, ``door`` … are never violations).
2. Its aggregated score must reach the class's ``min_score`` (every camera kind, external detections too).
3. Persistence: dwell on fixed and PTZ cameras, and on fixed ones also detected in enough of the frames tracked
   while it was in view (``fixed_coverage``, when the observation says how many were tracked); frames on patrol
   video (external detections skip it).
4. Without a location it is accepted here: zones and permits cannot apply (the reason says so).
5. Zones: a ``deny`` zone keeps it a candidate whatever overlapping zones allow; else a zone that allows its class
   (or violation type) at the time it was seen drops it. Time outside a zone's hours shorter than the camera's
   dwell threshold is forgiven.
6. Permits: a valid permit for its class within the permit's radius drops it (``deny`` zones do not override
   permits: a permit is an approval for that very spot).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import shapely
import yaml

from service.rules.errors import RulesError
from service.rules.geojson import load_zones
from service.rules.permits import Permit, PermitIndex, load_permits
from service.rules.settings import RuleSettings, read_rules_file
from service.rules.zones import Zone, ZoneIndex
from service.violations.observation import Observation
from vision.taxonomy import CONTEXT, Taxonomy, load_taxonomy

UNLOCATED_REASON = "no location: zones and permits not checked"
RULES_FILE_NAMES = ("rules.yaml", "rules.yml")
ZONES_FILE_NAME = "zones.geojson"
PERMITS_FILE_NAMES = ("permits.yaml", "permits.yml", "permits.json", "permits.csv")
_CAMERA_WORDS = {"fixed": "a fixed camera", "ptz": "a PTZ camera"}


@dataclass(frozen=True)
class Verdict:
    """The rule book's answer for one observation.

    Attributes:
        accepted: Whether it becomes a violation candidate.
        reason: Why it was dropped; for an accepted one ``None``, or a note (``UNLOCATED_REASON``, a deny zone, a
            stay outside a zone's hours).
        violation_type: The class's violation type (``street_occupation`` …), ``None`` for unknown classes.
        event_code: The class's GB/T 30428.2 event code (``0501`` …), ``None`` for context and unknown classes.
    """

    accepted: bool
    reason: str | None
    violation_type: str | None
    event_code: str | None


class RuleBook:
    """Persistence, zones and permits, applied to one observation at a time."""

    def __init__(
        self,
        settings: RuleSettings | None = None,
        zones: Sequence[Zone] = (),
        permits: Sequence[Permit] = (),
        *,
        taxonomy: Taxonomy | None = None,
    ) -> None:
        """Build the rule book and its spatial indexes.

        Args:
            settings: Time zone and persistence thresholds; ``None`` for the defaults.
            zones: Zones (see :func:`service.rules.geojson.load_zones`).
            permits: Permits (see :func:`service.rules.permits.load_permits`).
            taxonomy: Classes, violation types and event codes; ``None`` reads ``models/taxonomy.yaml``.

        Raises:
            ValueError: A zone or permit names a class or violation type the taxonomy does not have.
        """
        self.settings = settings if settings is not None else RuleSettings()
        self.taxonomy = taxonomy if taxonomy is not None else load_taxonomy()
        tz = self.settings.tz
        self._zones = ZoneIndex(zones, self.taxonomy, tz)
        self._permits = PermitIndex(permits, self.taxonomy, tz)
        self._classes = {
            c.name: (c.violation.key, c.event.code if c.event is not None else None) for c in self.taxonomy.classes
        }
        self._placed_classes = self._zones.classes | self._permits.classes  # classes a location can matter for

    @property
    def zones(self) -> tuple[Zone, ...]:
        """The zones, as given."""
        return self._zones.zones

    @property
    def permits(self) -> tuple[Permit, ...]:
        """The permits, as given."""
        return self._permits.permits

    @classmethod
    def load(cls, path: Path | str, *, taxonomy: Taxonomy | None = None) -> RuleBook:
        """Read a rules folder or a ``rules.yaml``.

        A folder holds any of ``rules.yaml`` (time zone, persistence overrides, optionally the zones and permits
        file names), ``zones.geojson`` and one of ``permits.yaml`` / ``permits.json`` / ``permits.csv``; files
        ``rules.yaml`` names win over these conventional names. See ``service/rules/examples/``.

        Args:
            path: The folder or the YAML file.
            taxonomy: ``None`` reads ``models/taxonomy.yaml``.

        Raises:
            RulesError: Anything missing or malformed; the message names the file and the field.
        """
        known = taxonomy if taxonomy is not None else load_taxonomy()
        source = Path(path)
        if source.is_dir():
            folder = source
            rules_path = next((source / name for name in RULES_FILE_NAMES if (source / name).is_file()), None)
        elif source.is_file() and source.suffix.lower() in (".yaml", ".yml"):
            folder, rules_path = source.parent, source
        elif source.is_file():
            raise RulesError(source, "file", "expected a rules folder or a rules.yaml (zones and permits go in it)")
        else:
            raise RulesError(source, "file", "no such rules folder or file")
        rules = read_rules_file(rules_path, raw=_read_yaml(rules_path), taxonomy=known) if rules_path else None
        zones_path = rules.zones if rules and rules.zones else _existing(folder / ZONES_FILE_NAME)
        permits_path = rules.permits if rules and rules.permits else _permits_in(folder)
        zones = load_zones(zones_path, taxonomy=known) if zones_path else ()
        permits = load_permits(permits_path, taxonomy=known) if permits_path else ()
        return cls(rules.settings if rules else None, zones, permits, taxonomy=known)

    def judge(self, observation: Observation) -> Verdict:
        """Decide whether ``observation`` becomes a violation candidate.

        Returns:
            The verdict; a dropped observation always has a reason.
        """
        name = observation.class_name
        known = self._classes.get(name)
        if known is None:
            return Verdict(False, f"class {name!r} is not in the taxonomy {self.taxonomy.path}", None, None)
        violation_type, event_code = known
        if violation_type == CONTEXT:
            return Verdict(False, f"{name} is scene context, never a violation", violation_type, None)
        rejection = self._persistence_failure(observation)
        if rejection is not None:
            return Verdict(False, rejection, violation_type, event_code)
        location = observation.location
        if location is None:
            return Verdict(True, UNLOCATED_REASON, violation_type, event_code)
        if name not in self._placed_classes:
            return Verdict(True, None, violation_type, event_code)
        point = shapely.Point(location.lon, location.lat)
        grace = self.settings.persistence_of(name).dwell_seconds(observation.camera_kind)
        first, last = observation.first_seen, observation.last_seen
        zones = self._zones.decide(name, point, first, last, grace)
        if zones.allowed:
            return Verdict(False, zones.reason, violation_type, event_code)
        match = self._permits.find(name, point, first, last)
        if match is not None:
            permit = match.permit
            reason = (
                f"permit {permit.number} allows {name} within {permit.radius_m:g} m "
                f"({match.distance_m:.0f} m from its position, {permit.validity_text()})"
            )
            return Verdict(False, reason, violation_type, event_code)
        return Verdict(True, zones.reason, violation_type, event_code)

    def _persistence_failure(self, observation: Observation) -> str | None:
        name, kind = observation.class_name, observation.camera_kind
        thresholds = self.settings.persistence_of(name)
        if not observation.score >= thresholds.min_score:  # written so that a NaN score fails too
            return f"score {observation.score:.2f} is below {thresholds.min_score:.2f} for {name}"
        if kind == "patrol" and observation.frames_seen < thresholds.patrol_frames:
            return (
                f"seen in {observation.frames_seen} frame(s) of patrol video; {name} needs {thresholds.patrol_frames}"
            )
        needed = thresholds.dwell_seconds(kind)
        if kind in _CAMERA_WORDS and observation.dwell_seconds < needed:
            return f"seen {observation.dwell_seconds:.1f} s on {_CAMERA_WORDS[kind]}; {name} needs {needed:g} s"
        tracked = observation.frames_tracked
        if kind == "fixed" and tracked and observation.frames_seen < thresholds.fixed_coverage * tracked:
            return (
                f"detected in {observation.frames_seen} of the {tracked} frames tracked over its "
                f"{observation.dwell_seconds:.0f} s on a fixed camera "
                f"({observation.frames_seen / tracked:.0%}); {name} needs {thresholds.fixed_coverage:.0%}"
            )
        return None


def _read_yaml(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RulesError(path, "file", f"cannot read: {error}") from error
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise RulesError(path, "file", f"not valid YAML: {error}") from error


def _existing(path: Path) -> Path | None:
    return path if path.is_file() else None


def _permits_in(folder: Path) -> Path | None:
    found = [folder / name for name in PERMITS_FILE_NAMES if (folder / name).is_file()]
    if len(found) > 1:
        raise RulesError(folder, "permits", f"several permits files ({', '.join(p.name for p in found)}); keep one")
    return found[0] if found else None
