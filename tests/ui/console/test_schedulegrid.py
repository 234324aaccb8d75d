"""The schedule grid's conversions, checked against the agent's own reading of the windows.

`filters.policy.schedule.Schedule` is what the proxy obeys, so every grid here is turned into
windows, compiled by it, and asked half hour by half hour: the grid a parent paints is the
schedule the proxy keeps.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest

from abhaya.filters.policy.model import Window as PolicyWindow
from abhaya.filters.policy.schedule import Schedule
from abhaya.ui.console.policyedit import DAYS, Window
from abhaya.ui.console.schedulegrid import (
    SLOTS_PER_DAY,
    NothingAllowed,
    ScheduleGridError,
    WeekGrid,
    block,
    grid_from_windows,
    slot_clock,
    windows_from_grid,
)

ZONE = ZoneInfo("Asia/Kolkata")
MONDAY = dt.datetime(2026, 11, 30, tzinfo=ZONE)  # a Monday, 00:00 local


def _agent_allows(windows: tuple[Window, ...], day: int, slot: int) -> bool:
    """Whether the proxy allows browsing in the middle of this half hour."""
    schedule = Schedule.compile(
        [PolicyWindow(days=w.days, start=w.start, end=w.end) for w in windows], ZONE
    )
    return schedule.allows(MONDAY + dt.timedelta(days=day, minutes=slot * 30 + 15))


def _agent_grid(windows: tuple[Window, ...]) -> WeekGrid:
    return WeekGrid(
        tuple(
            tuple(_agent_allows(windows, day, slot) for slot in range(SLOTS_PER_DAY))
            for day in range(7)
        )
    )


def _random_grid(seed: int) -> WeekGrid:
    """A grid of a few painted blocks, as a parent paints (not noise)."""
    chance = random.Random(seed)
    grid = WeekGrid.filled(chance.random() < 0.5)
    for _ in range(chance.randint(1, 6)):
        first = (chance.randrange(7), chance.randrange(SLOTS_PER_DAY))
        last = (chance.randrange(7), chance.randrange(SLOTS_PER_DAY))
        grid = grid.painted(block(first, last), chance.random() < 0.5)
    return grid


def test_no_windows_is_every_half_hour_and_back() -> None:
    reading = grid_from_windows(())
    assert reading.exact and reading.grid.always
    assert windows_from_grid(reading.grid) == ()


def test_a_whole_day_every_day_is_the_same_as_no_windows() -> None:
    reading = grid_from_windows((Window(DAYS, "00:00", "24:00"),))
    assert reading.exact and reading.grid.always
    assert windows_from_grid(reading.grid) == ()


def test_a_whole_day_on_some_days_is_written_to_24_00() -> None:
    grid = WeekGrid.filled(False).painted(block((5, 0), (6, SLOTS_PER_DAY - 1)), True)
    assert windows_from_grid(grid) == (Window(("sat", "sun"), "00:00", "24:00"),)


def test_nothing_allowed_is_refused_rather_than_written_as_any_time() -> None:
    with pytest.raises(NothingAllowed):
        windows_from_grid(WeekGrid.filled(False))


def test_days_that_share_hours_become_one_window() -> None:
    windows = (
        Window(("mon", "tue", "wed", "thu", "fri"), "16:00", "20:00"),
        Window(("sat", "sun"), "09:00", "12:30"),
        Window(("sat", "sun"), "15:00", "21:00"),
    )
    reading = grid_from_windows(windows)
    assert reading.exact
    assert reading.grid[(0, 32)] and not reading.grid[(0, 40)] and reading.grid[(6, 24)]
    assert windows_from_grid(reading.grid) == windows


def test_a_window_past_midnight_covers_the_next_morning() -> None:
    reading = grid_from_windows((Window(("sun",), "20:00", "01:00"),))
    assert reading.exact
    allowed = {(d, s) for d in range(7) for s in range(SLOTS_PER_DAY) if reading.grid[(d, s)]}
    assert allowed == {(6, s) for s in range(40, 48)} | {(0, 0), (0, 1)}  # Sunday into Monday
    assert windows_from_grid(reading.grid) == (
        Window(("mon",), "00:00", "01:00"),
        Window(("sun",), "20:00", "24:00"),
    )


def test_a_window_off_the_half_hour_is_rounded_to_less_browsing_and_says_so() -> None:
    reading = grid_from_windows((Window(("mon",), "16:15", "18:10"),))
    assert not reading.exact
    allowed = [s for s in range(SLOTS_PER_DAY) if reading.grid[(0, s)]]
    assert allowed == [33, 34, 35]  # 16:30-18:00: the partly covered half hours are not allowed
    assert windows_from_grid(reading.grid) == (Window(("mon",), "16:30", "18:00"),)


def test_a_window_covering_only_part_of_a_single_half_hour_leaves_it_closed() -> None:
    reading = grid_from_windows((Window(("tue",), "10:05", "10:20"),))
    assert not reading.exact and reading.grid.never


@pytest.mark.parametrize(
    ("window", "words"),
    [
        (Window(("mon",), "8:00", "10:00"), "'8:00' is not HH:MM"),
        (Window(("mon",), "08:00", "24:30"), "'24:30' is not HH:MM"),
        (Window(("mon",), "10:00", "10:00"), "is empty"),
        (Window(("someday",), "10:00", "11:00"), "'someday' is not a day"),
    ],
)
def test_windows_the_grid_cannot_show_are_named(window: Window, words: str) -> None:
    with pytest.raises(ScheduleGridError, match=words):
        grid_from_windows((window,))


@pytest.mark.parametrize("seed", range(40))
def test_a_painted_grid_is_the_schedule_the_agent_keeps(seed: int) -> None:
    grid = _random_grid(seed)
    if grid.never:
        with pytest.raises(NothingAllowed):
            windows_from_grid(grid)
        return
    windows = windows_from_grid(grid)
    assert _agent_grid(windows) == grid
    again = grid_from_windows(windows)
    assert again.exact and again.grid == grid
    assert windows_from_grid(again.grid) == windows


def test_the_agents_reading_of_a_midnight_window_matches_the_grid() -> None:
    windows = (Window(("fri", "sat"), "21:30", "02:00"), Window(("wed",), "00:00", "24:00"))
    assert _agent_grid(windows) == grid_from_windows(windows).grid


def test_painting_and_corners() -> None:
    grid = WeekGrid.filled(True).painted(block((2, 10), (1, 8)), False)
    assert [cell for cell in block((2, 10), (1, 8))] == [
        (1, 8),
        (1, 9),
        (1, 10),
        (2, 8),
        (2, 9),
        (2, 10),
    ]
    assert not grid[(1, 9)] and grid[(1, 11)] and grid[(0, 9)]
    assert slot_clock(0) == "00:00" and slot_clock(33) == "16:30" and slot_clock(48) == "24:00"
    with pytest.raises(ValueError, match="7 days of 48"):
        WeekGrid(((True,) * 48,) * 6)
