"""The stages of a case on the city platform and which changes between them are allowed.

受理 accepted → 立案 registered → 派遣 dispatched → 处置 handled → 核查 verified → 结案 closed, or 作废 void from any
stage that is not final. A stage may be skipped (the platform may not report each one) but never gone back to;
``closed`` and ``void`` are final.
"""

from __future__ import annotations

from service.db.models.cases import STAGE_NAMES_ZH, STAGES
from service.errors import Conflict, Invalid

FLOW = ("accepted", "registered", "dispatched", "handled", "verified", "closed")
VOID = "void"
FINAL = ("closed", VOID)
_BY_NAME = {name: key for key, name in STAGE_NAMES_ZH.items()}


def stage_key(value: str) -> str:
    """The stage key for ``value``, given as a key (``dispatched``) or its Chinese name (``派遣``).

    Raises:
        Invalid: Not a stage; the message lists them.
    """
    text = value.strip() if isinstance(value, str) else value
    if text in STAGES:
        return str(text)
    if text in _BY_NAME:
        return _BY_NAME[text]
    known = ", ".join(f"{key} ({STAGE_NAMES_ZH[key]})" for key in STAGES)
    raise Invalid(f"{value!r} is not a stage (known: {known})", field="stage")


def describe(stage: str) -> str:
    """``stage`` with its Chinese name, for messages: ``dispatched (派遣)``."""
    return f"{stage} ({STAGE_NAMES_ZH.get(stage, '?')})"


def check_transition(current: str, new: str, *, case_id: int) -> None:
    """Refuse moving case ``case_id`` from stage ``current`` to ``new`` (both keys, different).

    Raises:
        Conflict: ``current`` is final, or ``new`` comes before ``current`` in the flow.
    """
    if current in FINAL:
        raise Conflict(f"case {case_id} is {describe(current)}, a final stage; {describe(new)} cannot follow")
    if new == VOID:
        return
    if FLOW.index(new) < FLOW.index(current):
        raise Conflict(f"case {case_id} is {describe(current)}; {describe(new)} would go backwards")
