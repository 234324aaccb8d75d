"""Weekly windows in the policy's time zone, with a controlled clock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from abhaya.filters.policy.model import Window
from abhaya.filters.policy.schedule import Schedule

KOLKATA = ZoneInfo("Asia/Kolkata")


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment in Kolkata on 2026-11-30 (a Monday) + `day` days."""
    return dt.datetime(2026, 11, 30, hour, minute, tzinfo=KOLKATA) + dt.timedelta(days=day)


SCHOOL_NIGHTS = Window(days=("mon", "tue", "wed", "thu"), start="16:00", end="20:00")
WEEKEND_LATE = Window(days=("fri", "sat"), start="18:00", end="01:00")
ALL_DAY = Window(start="00:00", end="24:00")


@pytest.mark.parametrize(
    ("windows", "moment", "allowed"),
    [
        ((), local(0, 3), True),  # no windows: always
        ((SCHOOL_NIGHTS,), local(0, 15, 59), False),
        ((SCHOOL_NIGHTS,), local(0, 16, 0), True),
        ((SCHOOL_NIGHTS,), local(0, 19, 59), True),
        ((SCHOOL_NIGHTS,), local(0, 20, 0), False),  # end is exclusive
        ((SCHOOL_NIGHTS,), local(4, 17), False),  # Friday
        ((WEEKEND_LATE,), local(4, 23, 30), True),  # Friday night
        ((WEEKEND_LATE,), local(5, 0, 30), True),  # past midnight into Saturday
        ((WEEKEND_LATE,), local(5, 1, 0), False),
        ((WEEKEND_LATE,), local(6, 0, 30), True),  # Saturday's window runs into Sunday
        ((WEEKEND_LATE,), local(0, 0, 30), False),  # ... but not into Monday
        ((SCHOOL_NIGHTS, WEEKEND_LATE), local(2, 18), True),
        ((ALL_DAY,), local(3, 23, 59), True),
    ],
)
def test_windows(windows: tuple[Window, ...], moment: dt.datetime, allowed: bool) -> None:
    assert Schedule.compile(windows, KOLKATA).allows(moment) is allowed


def test_evaluated_in_the_policy_zone_not_the_clock_zone() -> None:
    schedule = Schedule.compile((SCHOOL_NIGHTS,), KOLKATA)
    # 11:00 UTC is 16:30 in Kolkata on the same Monday.
    assert schedule.allows(dt.datetime(2026, 11, 30, 11, 0, tzinfo=dt.UTC))
    assert not schedule.allows(dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC))


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        Schedule.compile((SCHOOL_NIGHTS,), KOLKATA).allows(dt.datetime(2026, 11, 30, 17))


@pytest.mark.parametrize(
    ("windows", "moment", "opening"),
    [
        ((SCHOOL_NIGHTS,), local(0, 15, 59), local(0, 16)),  # later today
        ((SCHOOL_NIGHTS,), local(0, 20), local(1, 16)),  # tomorrow
        ((SCHOOL_NIGHTS,), local(3, 21), local(4 + 3, 16)),  # Thursday night: next Monday
        ((SCHOOL_NIGHTS,), local(0, 3), local(0, 16)),
        ((WEEKEND_LATE,), local(5, 1), local(5, 18)),  # after Friday's late window
        ((WEEKEND_LATE,), local(0, 0, 30), local(4, 18)),  # Monday 00:30: Friday evening
        ((SCHOOL_NIGHTS, WEEKEND_LATE), local(3, 20, 30), local(4, 18)),
        # the same weekday a week later, when today's window is over
        ((Window(days=("mon",), start="07:00", end="08:00"),), local(0, 9), local(7, 7)),
    ],
)
def test_the_next_opening_is_the_first_window_start_after_now(
    windows: tuple[Window, ...], moment: dt.datetime, opening: dt.datetime
) -> None:
    found = Schedule.compile(windows, KOLKATA).next_opening(moment.astimezone(dt.UTC))
    assert found == opening
    assert found is not None and found.tzinfo == KOLKATA  # said in the family's time zone


@pytest.mark.parametrize(
    ("windows", "moment"),
    [((), local(0, 3)), ((SCHOOL_NIGHTS,), local(0, 17)), ((WEEKEND_LATE,), local(5, 0, 30))],
)
def test_there_is_no_next_opening_while_browsing_is_allowed(
    windows: tuple[Window, ...], moment: dt.datetime
) -> None:
    assert Schedule.compile(windows, KOLKATA).next_opening(moment) is None
