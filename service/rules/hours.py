"""Daily time windows in the city's local time, overnight windows included.

A window ``"18:00-23:00"`` covers 18:00 up to (not including) 23:00 local time. When the end is not after the start
(``"22:00-02:00"``) the window runs past midnight and ends on the next day; ``"00:00-24:00"`` is the whole day.
Weekdays, when given, are those of the day a window *starts*: a Friday ``22:00-02:00`` window runs into Saturday.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # ISO order: index + 1 is the ISO weekday
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MINUTES_PER_DAY = 24 * 60
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–~～]\s*(\d{1,2}):(\d{2})\s*$")
_EPSILON_SECONDS = 1e-6  # float rounding of summed spans; far below any time a camera can resolve


@dataclass(frozen=True)
class TimeWindow:
    """One daily window, possibly overnight, possibly on some weekdays only.

    Attributes:
        start_minute: Minutes after local midnight the window opens, ``0..1439``.
        end_minute: Minutes after local midnight it closes, ``1..1440``; not after ``start_minute`` means the
            next day.
        weekdays: ISO weekdays (1 = Monday) on which the window opens; ``None`` for every day.
    """

    start_minute: int
    end_minute: int
    weekdays: frozenset[int] | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.start_minute < MINUTES_PER_DAY:
            raise ValueError(f"time window start {self.start_minute} is outside 0..1439 minutes")
        if not 0 < self.end_minute <= MINUTES_PER_DAY:
            raise ValueError(f"time window end {self.end_minute} is outside 1..1440 minutes")
        if self.start_minute == self.end_minute:
            raise ValueError("time window starts and ends at the same time; for all day leave the hours out")
        if self.weekdays is not None and (not self.weekdays or not self.weekdays <= set(range(1, 8))):
            raise ValueError(f"weekdays must be a non-empty set of ISO weekdays 1..7, got {sorted(self.weekdays)}")

    @classmethod
    def parse(cls, text: str, weekdays: frozenset[int] | None = None) -> TimeWindow:
        """Read ``"HH:MM-HH:MM"`` (also ``~`` or an en dash between the times).

        Raises:
            ValueError: Not of that form, an hour above 24 or a minute above 59, or an empty window.
        """
        match = _WINDOW.match(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"{text!r} is not a time window (HH:MM-HH:MM, e.g. 18:00-23:00 or 22:00-02:00)")
        start_hour, start_min, end_hour, end_min = (int(part) for part in match.groups())
        start, end = start_hour * 60 + start_min, end_hour * 60 + end_min
        if start_min > 59 or end_min > 59 or start >= MINUTES_PER_DAY or end > MINUTES_PER_DAY:
            raise ValueError(f"{text!r} is not a time window: hours run 00:00 to 24:00")
        if end == 0:
            end = MINUTES_PER_DAY  # "22:00-00:00" closes at midnight
        try:
            return cls(start, end, weekdays)
        except ValueError as error:
            raise ValueError(f"{text!r}: {error}") from None

    @property
    def overnight(self) -> bool:
        """Whether the window closes on the day after it opens."""
        return self.end_minute <= self.start_minute

    def __str__(self) -> str:
        text = f"{_clock(self.start_minute)}-{_clock(self.end_minute)}"
        if self.weekdays is not None and len(self.weekdays) < 7:
            text += " on " + ", ".join(WEEKDAY_NAMES[day - 1].capitalize() for day in sorted(self.weekdays))
        return text

    def spans(self, tz: ZoneInfo, first_day: date, last_day: date) -> Iterator[tuple[float, float]]:
        """Yield ``(open, close)`` POSIX timestamps of the window on each local day from first to last, inclusive."""
        day = first_day
        while day <= last_day:
            if self.weekdays is None or day.isoweekday() in self.weekdays:
                end_day = day + timedelta(days=1) if self.overnight or self.end_minute == MINUTES_PER_DAY else day
                yield (_timestamp(day, self.start_minute, tz), _timestamp(end_day, self.end_minute, tz))
            day += timedelta(days=1)


def parse_weekdays(values: Sequence[object]) -> frozenset[int]:
    """Read weekdays given as names (``"mon"``, ``"Friday"``) or ISO numbers (1 = Monday … 7 = Sunday).

    Raises:
        ValueError: An empty list or an entry that is neither.
    """
    if not values:
        raise ValueError("expected a non-empty list of weekdays")
    days: set[int] = set()
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 7:
            days.add(value)
        elif isinstance(value, str) and value.strip().lower() in WEEKDAY_NAMES + _FULL_NAMES:
            days.add((WEEKDAY_NAMES + _FULL_NAMES).index(value.strip().lower()) % 7 + 1)
        else:
            raise ValueError(f"{value!r} is not a weekday (mon..sun or 1..7, 1 = Monday)")
    return frozenset(days)


def within_windows(
    windows: Iterable[TimeWindow], tz: ZoneInfo, first: datetime, last: datetime, grace_seconds: float = 0.0
) -> bool:
    """Whether an object seen from ``first`` to ``last`` stayed inside the windows (their union).

    An instant (``first == last``) must fall inside a window. A longer stay may spend less than
    ``grace_seconds`` outside them: a stall that sets up two minutes before the market opens is not a violation
    when the camera's persistence rule would not have flagged two minutes anyway.

    Args:
        windows: The windows; several zones' windows may be passed together.
        tz: The city's time zone the windows are read in.
        first: When the object was first seen (aware).
        last: When it was last seen (aware).
        grace_seconds: Time outside the windows that is forgiven.
    """
    start, end = first.timestamp(), last.timestamp()
    first_day = first.astimezone(tz).date() - timedelta(days=1)  # yesterday's overnight window may still be open
    spans = sorted(span for window in windows for span in window.spans(tz, first_day, last.astimezone(tz).date()))
    if start == end:
        return any(opens <= start < closes for opens, closes in spans)
    covered, cursor = 0.0, start
    for opens, closes in spans:
        opens, closes = max(opens, cursor), min(closes, end)
        if closes > opens:
            covered += closes - opens
            cursor = closes
    outside = (end - start) - covered
    return outside <= _EPSILON_SECONDS or outside < grace_seconds


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _timestamp(day: date, minute: int, tz: ZoneInfo) -> float:
    if minute == MINUTES_PER_DAY:
        return datetime.combine(day, time(0), tzinfo=tz).timestamp()  # the caller passes the next day
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz).timestamp()
