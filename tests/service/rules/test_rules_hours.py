"""Time windows: parsing, overnight windows, weekdays, time zones and forgiven minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from service.rules import TimeWindow, parse_weekdays, within_windows

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: int, hour: int, minute: int = 0, tz: ZoneInfo = SHANGHAI) -> datetime:
    """A time in June 2025 (the 6th is a Friday)."""
    return datetime(2025, 6, day, hour, minute, tzinfo=tz)


@pytest.mark.parametrize(
    ("text", "start", "end", "overnight"),
    [
        ("18:00-23:00", 18 * 60, 23 * 60, False),
        (" 6:30 - 9:15 ", 6 * 60 + 30, 9 * 60 + 15, False),
        ("22:00-02:00", 22 * 60, 2 * 60, True),
        ("22:00-00:00", 22 * 60, 24 * 60, False),
        ("00:00-24:00", 0, 24 * 60, False),
        ("18:00~23:00", 18 * 60, 23 * 60, False),
        ("18:00–23:00", 18 * 60, 23 * 60, False),
    ],
)
def test_windows_parse(text: str, start: int, end: int, overnight: bool) -> None:
    window = TimeWindow.parse(text)
    assert (window.start_minute, window.end_minute, window.overnight) == (start, end, overnight)


@pytest.mark.parametrize("text", ["18-23", "18:00", "25:00-02:00", "18:60-23:00", "18:00-24:30", "09:00-09:00", ""])
def test_malformed_windows_are_refused_with_the_text(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        TimeWindow.parse(text)
    assert repr(text) in str(caught.value)


def test_window_text_shows_weekdays() -> None:
    assert str(TimeWindow.parse("22:00-02:00", frozenset({5, 6}))) == "22:00-02:00 on Fri, Sat"
    assert str(TimeWindow.parse("18:00-23:00")) == "18:00-23:00"


@pytest.mark.parametrize(
    ("values", "days"),
    [(["mon", "Friday", 7], {1, 5, 7}), (["SAT", "sun"], {6, 7}), ([1, 2, 3, 4, 5], {1, 2, 3, 4, 5})],
)
def test_weekdays_by_name_or_iso_number(values: list[object], days: set[int]) -> None:
    assert parse_weekdays(values) == frozenset(days)


@pytest.mark.parametrize("values", [[], ["monkey"], [0], [8], [True]])
def test_bad_weekdays_are_refused(values: list[object]) -> None:
    with pytest.raises(ValueError):
        parse_weekdays(values)


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (local(6, 17, 59), False),
        (local(6, 18, 0), True),
        (local(6, 22, 59), True),
        (local(6, 23, 0), False),  # half-open: the market closes at 23:00
        (datetime(2025, 6, 6, 12, 0, tzinfo=UTC), True),  # 20:00 in Shanghai
        (datetime(2025, 6, 6, 16, 0, tzinfo=UTC), False),  # midnight in Shanghai
    ],
)
def test_an_instant_must_fall_inside(moment: datetime, inside: bool) -> None:
    assert within_windows([TimeWindow.parse("18:00-23:00")], SHANGHAI, moment, moment) is inside


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (local(6, 21, 59), False),
        (local(6, 22, 0), True),
        (local(6, 23, 59), True),
        (local(7, 0, 0), True),  # past midnight: yesterday's window is still open
        (local(7, 1, 59), True),
        (local(7, 2, 0), False),
        (local(7, 12, 0), False),
    ],
)
def test_overnight_window_runs_into_the_next_day(moment: datetime, inside: bool) -> None:
    assert within_windows([TimeWindow.parse("22:00-02:00")], SHANGHAI, moment, moment) is inside


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (local(6, 23), True),  # Friday night
        (local(7, 1), True),  # Saturday 01:00: Friday's window
        (local(8, 1), True),  # Sunday 01:00: Saturday's window
        (local(8, 23), False),  # Sunday night: no window opens on Sunday
        (local(9, 1), False),  # Monday 01:00
        (local(5, 23), False),  # Thursday night
    ],
)
def test_weekdays_are_those_the_window_opens_on(moment: datetime, inside: bool) -> None:
    window = TimeWindow.parse("22:00-02:00", parse_weekdays(["fri", "sat"]))
    assert within_windows([window], SHANGHAI, moment, moment) is inside


def test_time_zone_decides_local_hours() -> None:
    moment = datetime(2025, 6, 6, 12, 0, tzinfo=UTC)  # 20:00 Shanghai, 14:00 Berlin
    window = [TimeWindow.parse("18:00-23:00")]
    assert within_windows(window, SHANGHAI, moment, moment)
    assert not within_windows(window, ZoneInfo("Europe/Berlin"), moment, moment)


def test_daylight_saving_is_respected() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    window = [TimeWindow.parse("18:00-23:00")]
    winter = datetime(2025, 1, 10, 17, 30, tzinfo=UTC)  # 18:30 CET
    summer = datetime(2025, 7, 10, 16, 30, tzinfo=UTC)  # 18:30 CEST
    assert within_windows(window, berlin, winter, winter)
    assert within_windows(window, berlin, summer, summer)
    assert not within_windows(window, berlin, summer - timedelta(hours=1), summer - timedelta(hours=1))


@pytest.mark.parametrize(
    ("first", "last", "grace", "inside"),
    [
        (local(6, 19), local(6, 22), 0, True),
        (local(6, 17, 58), local(6, 20), 180, True),  # two minutes early, forgiven by a 3-minute dwell rule
        (local(6, 17, 58), local(6, 20), 0, False),  # ... but not without grace
        (local(6, 17, 50), local(6, 20), 180, False),  # ten minutes early is a violation
        (local(6, 20), local(6, 23, 5), 180, False),  # five minutes after closing
        (local(6, 20), local(7, 20), 180, False),  # stayed all night and day
    ],
)
def test_a_stay_may_spend_less_than_the_grace_outside(
    first: datetime, last: datetime, grace: float, inside: bool
) -> None:
    assert within_windows([TimeWindow.parse("18:00-23:00")], SHANGHAI, first, last, grace) is inside


def test_several_windows_cover_their_union() -> None:
    evening, late = TimeWindow.parse("18:00-23:00"), TimeWindow.parse("22:00-02:00")
    assert within_windows([evening, late], SHANGHAI, local(6, 19), local(7, 1, 30))
    assert not within_windows([evening], SHANGHAI, local(6, 19), local(7, 1, 30))
    assert not within_windows([late], SHANGHAI, local(6, 19), local(7, 1, 30))


def test_an_all_day_window_covers_a_stay_of_weeks() -> None:
    always = [TimeWindow.parse("00:00-24:00")]
    assert within_windows(always, SHANGHAI, local(1, 10), local(20, 10))
