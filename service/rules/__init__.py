"""Whether an observation becomes a violation candidate: persistence, zones (with hours) and permits.

Example::

    from service.rules import RuleBook

    rules = RuleBook.load("service/rules/examples")
    verdict = rules.judge(observation)
    if not verdict.accepted:
        print(verdict.reason)  # 'zone "Night market" allows vendor_stall 18:00-23:00'

File formats: ``service/rules/examples/README.md``.
"""

from __future__ import annotations

from service.rules.book import UNLOCATED_REASON, RuleBook, Verdict
from service.rules.errors import RulesError
from service.rules.geojson import load_zones
from service.rules.hours import TimeWindow, parse_weekdays, within_windows
from service.rules.permits import Permit, load_permits
from service.rules.settings import DEFAULT_PERSISTENCE, DEFAULT_TIMEZONE, Persistence, RuleSettings
from service.rules.zones import Zone

__all__ = [
    "DEFAULT_PERSISTENCE",
    "DEFAULT_TIMEZONE",
    "UNLOCATED_REASON",
    "Permit",
    "Persistence",
    "RuleBook",
    "RuleSettings",
    "RulesError",
    "TimeWindow",
    "Verdict",
    "Zone",
    "load_permits",
    "load_zones",
    "parse_weekdays",
    "within_windows",
]
