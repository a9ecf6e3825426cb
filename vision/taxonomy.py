"""Detector classes and the violation types and GB/T 30428.2 event codes they map to, read from data.

The mapping lives in ``models/taxonomy.yaml`` because cities extend the standard's code list; code here only
checks and looks it up. Example::

    taxonomy = load_taxonomy()
    taxonomy.get("vendor_stall").event.code        # "0501"
    taxonomy.get("vendor_stall").event.major.name_zh  # "街面秩序"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vision.errors import VisionError

DEFAULT_TAXONOMY_PATH = Path(__file__).resolve().parents[1] / "models" / "taxonomy.yaml"
CONTEXT = "context"  # the violation type of classes that are scene context, never a violation themselves


class TaxonomyError(VisionError):
    """The taxonomy file is missing, malformed, or inconsistent; names the file and the field."""

    def __init__(self, path: Path | str, field_name: str, reason: str) -> None:
        super().__init__(f"{path}: {field_name}: {reason}")
        self.path = Path(path)
        self.field = field_name
        self.reason = reason


@dataclass(frozen=True)
class MajorClass:
    """A major class (大类) of the standard, e.g. ``05`` 街面秩序."""

    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class EventCode:
    """An event type (小类) of the standard, e.g. ``0501`` 无照经营游商, with its major class."""

    code: str
    name_zh: str
    name_en: str
    major: MajorClass


@dataclass(frozen=True)
class ViolationType:
    """One of our violation types: street_occupation, illegal_advertising, illegal_construction, context."""

    key: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class DetectorClass:
    """One detector class and what it becomes when a rule flags it.

    Attributes:
        class_id: The detector's class id (position in the vocabulary).
        name: The class name the detector reports, e.g. ``vendor_stall``.
        name_zh: Chinese name of the object.
        name_en: English name of the object.
        violation: The violation type this object signals.
        event: The event code a case of this object is filed under; ``None`` for context classes.
    """

    class_id: int
    name: str
    name_zh: str
    name_en: str
    violation: ViolationType
    event: EventCode | None

    @property
    def is_violation(self) -> bool:
        """Whether objects of this class can become a case (context classes cannot)."""
        return self.violation.key != CONTEXT


@dataclass(frozen=True)
class Taxonomy:
    """The whole vocabulary, in class-id order, with lookups by class name.

    Attributes:
        path: The file it was read from.
        standard: The standard the codes come from.
        classes: Detector classes; ``classes[i].class_id == i``.
        violation_types: Every violation type, by key.
        event_codes: Every event code, by code.
        major_classes: Every major class, by code.
    """

    path: Path
    standard: str
    classes: tuple[DetectorClass, ...]
    violation_types: dict[str, ViolationType] = field(default_factory=dict)
    event_codes: dict[str, EventCode] = field(default_factory=dict)
    major_classes: dict[str, MajorClass] = field(default_factory=dict)

    @property
    def class_names(self) -> tuple[str, ...]:
        """Class names in class-id order (what a model trained on this vocabulary reports)."""
        return tuple(c.name for c in self.classes)

    @property
    def names(self) -> tuple[str, ...]:
        """Same as :attr:`class_names` (the spelling of ``ModelInfo.names``)."""
        return self.class_names

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.classes)

    def get(self, name: str) -> DetectorClass:
        """Return the class called ``name``.

        Raises:
            KeyError: No such class; the message lists the known ones.
        """
        for detector_class in self.classes:
            if detector_class.name == name:
                return detector_class
        raise KeyError(f"{name!r} is not a class of {self.path} (known: {', '.join(self.names)})")

    def violation_of(self, name: str) -> ViolationType:
        """Return the violation type of class ``name``."""
        return self.get(name).violation

    def event_of(self, name: str) -> EventCode | None:
        """Return the event code of class ``name`` (``None`` for context classes)."""
        return self.get(name).event

    def classes_of(self, violation: str) -> tuple[DetectorClass, ...]:
        """Return the classes whose violation type is ``violation`` (e.g. ``"street_occupation"``)."""
        if violation not in self.violation_types:
            raise KeyError(f"{violation!r} is not a violation type of {self.path}")
        return tuple(c for c in self.classes if c.violation.key == violation)


def load_taxonomy(path: Path | str | None = None) -> Taxonomy:
    """Read and check a taxonomy file.

    Args:
        path: The YAML file; ``None`` reads ``models/taxonomy.yaml`` of this repository.

    Returns:
        The checked taxonomy.

    Raises:
        TaxonomyError: The file is missing or unreadable, a field is missing or of the wrong type, a class refers
            to an unknown violation type or event code, or a class name repeats.
    """
    source = Path(path) if path is not None else DEFAULT_TAXONOMY_PATH
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as error:
        raise TaxonomyError(source, "file", f"cannot read: {error}") from error
    except yaml.YAMLError as error:
        raise TaxonomyError(source, "file", f"not valid YAML: {error}") from error
    reader = _Reader(source)
    top = reader.mapping(raw, "(top level)")
    majors = {
        code: MajorClass(code, *reader.names(entry, f"major_classes.{code}"))
        for code, entry in reader.coded(top, "major_classes").items()
    }
    events = {}
    for code, entry in reader.coded(top, "event_codes").items():
        major = reader.text(entry, "major", f"event_codes.{code}")
        if major not in majors:
            raise TaxonomyError(source, f"event_codes.{code}.major", f"{major!r} is not in major_classes")
        events[code] = EventCode(code, *reader.names(entry, f"event_codes.{code}"), majors[major])
    violations = {
        key: ViolationType(key, *reader.names(entry, f"violation_types.{key}"))
        for key, entry in reader.coded(top, "violation_types").items()
    }
    classes = tuple(
        _read_class(reader, entry, index, violations, events)
        for index, entry in enumerate(reader.sequence(top, "classes"))
    )
    seen: set[str] = set()
    for detector_class in classes:
        if detector_class.name in seen:
            raise TaxonomyError(source, f"classes[{detector_class.class_id}].name", "repeats an earlier class")
        seen.add(detector_class.name)
    standard = top.get("standard", "")
    return Taxonomy(source, str(standard), classes, violations, events, majors)


def _read_class(
    reader: _Reader,
    entry: Any,
    index: int,
    violations: dict[str, ViolationType],
    events: dict[str, EventCode],
) -> DetectorClass:
    where = f"classes[{index}]"
    name = reader.text(entry, "name", where)
    violation_key = reader.text(entry, "violation", where)
    if violation_key not in violations:
        raise TaxonomyError(reader.path, f"{where}.violation", f"{violation_key!r} is not in violation_types")
    event: EventCode | None = None
    if violation_key == CONTEXT:
        if entry.get("event_code") is not None:
            raise TaxonomyError(reader.path, f"{where}.event_code", "a context class has no event code")
    else:
        code = reader.text(entry, "event_code", where)
        if code not in events:
            raise TaxonomyError(reader.path, f"{where}.event_code", f"{code!r} is not in event_codes")
        event = events[code]
    name_zh, name_en = reader.names(entry, where)
    return DetectorClass(index, name, name_zh, name_en, violations[violation_key], event)


@dataclass(frozen=True)
class _Reader:
    """Type checks that name the file and the field at fault."""

    path: Path

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise TaxonomyError(self.path, where, f"expected a mapping, got {type(value).__name__}")
        return value

    def sequence(self, parent: dict[str, Any], key: str) -> list[Any]:
        value = parent.get(key)
        if not isinstance(value, list) or not value:
            raise TaxonomyError(self.path, key, "expected a non-empty list")
        return value

    def coded(self, parent: dict[str, Any], key: str) -> dict[str, Any]:
        entries = self.mapping(parent.get(key), key)
        if not entries:
            raise TaxonomyError(self.path, key, "expected a non-empty mapping")
        for code in entries:
            if not isinstance(code, str):
                raise TaxonomyError(self.path, f"{key}.{code}", 'keys must be strings: quote codes such as "0101"')
        return entries

    def text(self, entry: Any, key: str, where: str) -> str:
        value = self.mapping(entry, where).get(key)
        if not isinstance(value, str) or not value:
            hint = ' (quote codes such as "0101")' if isinstance(value, int) else ""
            raise TaxonomyError(self.path, f"{where}.{key}", f"expected a non-empty string, got {value!r}{hint}")
        return value

    def names(self, entry: Any, where: str) -> tuple[str, str]:
        return self.text(entry, "zh", where), self.text(entry, "en", where)
