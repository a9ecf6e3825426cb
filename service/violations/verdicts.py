"""What the recorder needs from the rules: a verdict per observation, and a judge that gives one.

The rule book (zones, permits, time windows) lives in ``service.rules``; this module only states the shape the
recorder relies on, so anything with these four attributes will do, and offers :func:`taxonomy_judge`, the judge
to use when there are no rules: every object of a violation class is a candidate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from service.violations.observation import Observation
from vision.taxonomy import Taxonomy


class VerdictLike(Protocol):
    """A rule decision about one observation (``service.rules.Verdict`` has this shape)."""

    @property
    def accepted(self) -> bool:
        """Whether the observation is a violation candidate."""
        ...

    @property
    def reason(self) -> str | None:
        """Why it was dropped (or accepted); stored as the sighting's ``drop_reason`` when dropped."""
        ...

    @property
    def violation_type(self) -> str | None:
        """The violation type it counts as (``street_occupation`` …); required when accepted."""
        ...

    @property
    def event_code(self) -> str | None:
        """The GB/T 30428.2 event code a case would be filed under."""
        ...


Judge = Callable[[Observation], VerdictLike]


@dataclass(frozen=True)
class ClassVerdict:
    """A verdict made from the class alone (no zones, no permits)."""

    accepted: bool
    reason: str | None
    violation_type: str | None
    event_code: str | None


def taxonomy_judge(taxonomy: Taxonomy) -> Judge:
    """A judge that accepts every object of a violation class and drops scene-context classes.

    Args:
        taxonomy: Maps class names to violation types and event codes.

    Returns:
        ``judge(observation) -> ClassVerdict``; an unknown class is dropped with a reason naming it.
    """

    def judge(observation: Observation) -> ClassVerdict:
        if observation.class_name not in taxonomy:
            return ClassVerdict(False, f"class {observation.class_name!r} is not in the taxonomy", None, None)
        detector_class = taxonomy.get(observation.class_name)
        if not detector_class.is_violation or detector_class.event is None:
            return ClassVerdict(False, f"{observation.class_name} is scene context, not a violation", None, None)
        return ClassVerdict(True, None, detector_class.violation.key, detector_class.event.code)

    return judge
