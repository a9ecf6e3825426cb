"""Persistence thresholds per class and camera kind, the city's time zone, and reading them from ``rules.yaml``.

Why the defaults are what they are:

- ``vendor_stall`` and ``goods_outside_shop``: 180 s on a fixed camera, the low end of the 3-5 minutes cities
  require before capturing street occupation. These objects move: a cart that stops for a sale and leaves, or a
  shopkeeper carrying boxes in, must not become a case.
- Everything else (piles, banners, posters, signboards, ad boards, sheds, rooftop additions): 120 s. These cannot
  walk away, so the threshold only has to outlast what is mistaken for them while it passes: buses and lorries
  with printed or blue sides stopping at a light or a bus stop (a signal cycle is typically 60-120 s), people
  carrying sacks. A real pile or shed is there for hours and meets any threshold.
- PTZ cameras: 60 s for every class. A PTZ camera on a preset tour looks at each preset for tens of seconds to a
  couple of minutes, so the fixed-camera rule would never fire; 60 s still outlasts a pedestrian walking through the
  view, and the same object on the next visit attaches to the same candidate by location de-duplication. A PTZ
  camera parked on one preset is a fixed camera: configure it as one.
- Patrol video: 3 frames for every class, i.e. the tracker held the object over several sampled frames rather than
  one lucky detection. The count depends on the sampling rate (at 2 fps and 30 km/h a roadside object stays in view
  for several seconds); raise it for dense sampling.
- ``fixed_coverage`` 0.5 for every class (fixed cameras): detected in at least half of the frames tracked from its
  first to its last. The dwell rule counts from the first to the last detection, so a detector that
  flickers on a wall now and then over three minutes would otherwise pass it. On the dev fixed-camera clips (seeds
  7403-7409, 2 fps) the staying stalls were detected in 74-100% of their frames by the shipped model and the
  next stage, the flickers that became extra candidates in 4% (an ad board, 12 of 337 frames) and 34% (a box on
  the top edge of the view) (2026-11-26). A street crowded enough to hide a stall more than half the time needs a
  lower value in ``rules.yaml``. Not on PTZ cameras: a tour that comes back to a preset within two minutes makes one
  sighting of the object across visits (`vision.track.StationaryMerger`), tracked also while the camera looked
  elsewhere.
- ``min_score`` 0.25 for every class: the shipped model's default confidence (models/xiuhua-n/card.yaml), so the
  rule does not silently tighten the detector, yet it also applies to external detections, whose systems may report
  anything. Raise it per class once a model's per-class precision is known. Tracking also sees detections down to
  0.4 of that confidence (they continue tracks, see ``service.pipeline.source``); the score compared here is the
  track's (the mean of its best confidences), so a track held through weak frames still needs confident ones.
- External detections (``camera_kind`` ``None``): no dwell or frame rule (the other system decided when to report),
  but the score rule holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from service.rules.errors import RulesError
from vision.taxonomy import Taxonomy

DEFAULT_TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class Persistence:
    """How long, how often and how surely a class must be seen before it can be a candidate.

    Attributes:
        fixed_dwell_seconds: Minimum dwell on a fixed camera: from the first to the last frame the object was
            detected in (its track's first detection included, though the tracker confirms a track on its second).
        ptz_dwell_seconds: Minimum dwell on a PTZ camera, counted the same way.
        patrol_frames: Minimum sampled frames of patrol video the object was detected in (``Sighting.frames_seen``:
            its track's first detection included), e.g. 3 means three detections.
        min_score: Minimum aggregated score, for every camera kind and for external detections.
        fixed_coverage: On fixed cameras, the least share of the frames tracked while it was in view (from
            its first to its last) that it must have been detected in: something that stands there is detected in
            most of them, a detector's flicker on a wall or an edge in a few, however long apart the flickers.
    """

    fixed_dwell_seconds: float
    ptz_dwell_seconds: float
    patrol_frames: int
    min_score: float
    fixed_coverage: float = 0.0

    def __post_init__(self) -> None:
        if not (self.fixed_dwell_seconds >= 0 and self.ptz_dwell_seconds >= 0):
            raise ValueError("dwell seconds must be >= 0")
        if isinstance(self.patrol_frames, bool) or not isinstance(self.patrol_frames, int) or self.patrol_frames < 1:
            raise ValueError(f"patrol_frames must be an integer >= 1, got {self.patrol_frames!r}")
        if not 0.0 <= self.min_score <= 1.0:
            raise ValueError(f"min_score must be in [0, 1], got {self.min_score}")
        if not 0.0 <= self.fixed_coverage <= 1.0:
            raise ValueError(f"fixed_coverage must be in [0, 1], got {self.fixed_coverage}")

    def dwell_seconds(self, camera_kind: str | None) -> float:
        """Minimum dwell for a camera kind: 0 for patrol video and external detections."""
        if camera_kind == "fixed":
            return self.fixed_dwell_seconds
        if camera_kind == "ptz":
            return self.ptz_dwell_seconds
        return 0.0


_MOVABLE = Persistence(
    fixed_dwell_seconds=180.0, ptz_dwell_seconds=60.0, patrol_frames=3, min_score=0.25, fixed_coverage=0.5
)
_STATIC = Persistence(
    fixed_dwell_seconds=120.0, ptz_dwell_seconds=60.0, patrol_frames=3, min_score=0.25, fixed_coverage=0.5
)
DEFAULT_PERSISTENCE: Mapping[str, Persistence] = MappingProxyType(
    {"vendor_stall": _MOVABLE, "goods_outside_shop": _MOVABLE}
)
FALLBACK_PERSISTENCE = _STATIC  # every class not named in DEFAULT_PERSISTENCE (see the module docstring)


@dataclass(frozen=True)
class RuleSettings:
    """Everything the rules need besides zones and permits.

    Attributes:
        timezone: IANA name of the city's time zone; zone hours and permit dates are read in it.
        persistence: Thresholds by class name.
        fallback: Thresholds for classes not in ``persistence``.
    """

    timezone: str = DEFAULT_TIMEZONE
    persistence: Mapping[str, Persistence] = field(default_factory=lambda: DEFAULT_PERSISTENCE)
    fallback: Persistence = FALLBACK_PERSISTENCE

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"timezone {self.timezone!r} is not an IANA time zone (e.g. Asia/Shanghai)") from error

    @property
    def tz(self) -> ZoneInfo:
        """The city's time zone."""
        return ZoneInfo(self.timezone)

    def persistence_of(self, class_name: str) -> Persistence:
        """Thresholds for ``class_name``."""
        return self.persistence.get(class_name, self.fallback)


@dataclass(frozen=True)
class RulesFile:
    """What ``rules.yaml`` says: the settings and where the zones and permits are (``None``: not named)."""

    settings: RuleSettings
    zones: Path | None
    permits: Path | None


_TOP_KEYS = ("timezone", "zones", "permits", "persistence")


def read_rules_file(path: Path, *, raw: Any, taxonomy: Taxonomy) -> RulesFile:
    """Check a parsed ``rules.yaml``; see ``service/rules/examples/rules.yaml`` for the format.

    ``persistence.all`` overrides fields for every class, then ``persistence.<class>`` for one class, both on top
    of the defaults; only the fields given change. ``zones`` and ``permits`` are paths relative to the file.

    Args:
        path: The file (for messages and relative paths).
        raw: Its parsed YAML.
        taxonomy: Checks the class names under ``persistence``.

    Raises:
        RulesError: An unknown key, class or field, a bad value or time zone; names the file and the field.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise RulesError(path, "(top level)", f"expected a mapping with some of {', '.join(_TOP_KEYS)}")
    for key in raw:
        if key not in _TOP_KEYS:
            raise RulesError(path, str(key), f"unknown key; expected some of {', '.join(_TOP_KEYS)}")
    timezone = raw.get("timezone", DEFAULT_TIMEZONE)
    try:
        ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        raise RulesError(path, "timezone", f"{timezone!r} is not an IANA time zone (e.g. Asia/Shanghai)") from None
    persistence, fallback = _read_persistence(path, raw.get("persistence"), taxonomy)
    settings = RuleSettings(str(timezone), persistence, fallback)
    return RulesFile(settings, _relative(path, raw, "zones"), _relative(path, raw, "permits"))


def _relative(path: Path, raw: dict[str, Any], key: str) -> Path | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise RulesError(path, key, f"expected a file path relative to this file, got {value!r}")
    return path.parent / value


def _read_persistence(path: Path, raw: Any, taxonomy: Taxonomy) -> tuple[dict[str, Persistence], Persistence]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise RulesError(path, "persistence", "expected a mapping of class names (or all) to thresholds")
    for key in raw:
        if key != "all" and key not in taxonomy:
            raise RulesError(path, f"persistence.{key}", f"not a class of {taxonomy.path} nor all")
    overall = raw.get("all")
    fallback = _override(path, "persistence.all", FALLBACK_PERSISTENCE, overall)
    persistence = {}
    for name in taxonomy.names:
        base = _override(path, "persistence.all", DEFAULT_PERSISTENCE.get(name, FALLBACK_PERSISTENCE), overall)
        persistence[name] = _override(path, f"persistence.{name}", base, raw.get(name))
    return persistence, fallback


def _override(path: Path, where: str, base: Persistence, raw: Any) -> Persistence:
    if raw is None:
        return base
    names = [f.name for f in fields(Persistence)]
    if not isinstance(raw, dict):
        raise RulesError(path, where, f"expected a mapping with some of {', '.join(names)}")
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in names:
            raise RulesError(path, f"{where}.{key}", f"unknown field; expected some of {', '.join(names)}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RulesError(path, f"{where}.{key}", f"expected a number, got {value!r}")
        changes[key] = value if key == "patrol_frames" else float(value)
    try:
        return replace(base, **changes)
    except ValueError as error:
        raise RulesError(path, where, str(error)) from None
