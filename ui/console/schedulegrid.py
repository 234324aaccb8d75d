"""The weekly schedule as a grid of half hours, and back to the policy's time windows.

A profile's `schedule` lists the windows when browsing is allowed ("HH:MM" in the policy's
time zone, a window whose end is before its start running past midnight); no windows at all
means browsing is allowed at any time.  The Rules page shows this as 7 days x 48 half hours a
parent paints.  The two forms are not equal in power, so the conversions say where they part:

- a window that does not start and end on the half hour cannot be shown exactly; a half hour
  it covers only partly is shown (and, if the parent repaints the grid, written) as not
  allowed, so rounding never gives more browsing than the policy did (`GridReading.exact`);
- a grid with every half hour allowed is written as no windows (the policy's "at any time");
- a grid with nothing allowed has no windows to say it: the policy reads no windows as "at
  any time", so `windows_from_grid` refuses it (`NothingAllowed`) rather than write the
  opposite of what the parent painted.

Pure: no Qt, no API.  The windows are `policyedit.Window`, as the page reads and writes them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from abhaya.ui.console.policyedit import DAYS, Window

SLOT_MINUTES = 30
SLOTS_PER_DAY = 24 * 60 // SLOT_MINUTES
_MINUTES_PER_DAY = 24 * 60
_CLOCK = re.compile(r"([01]\d|2[0-4]):([0-5]\d)")


class ScheduleGridError(ValueError):
    """Windows the grid cannot show (a time that is not HH:MM, an unknown day), or a grid
    the policy cannot express; the message says which."""


class NothingAllowed(ScheduleGridError):
    """A grid with no allowed half hour: the policy has no way to say "never"."""


Cell = tuple[int, int]
"""(day, slot): day 0 is Monday, slot 0 is 00:00-00:30."""


@dataclass(frozen=True, slots=True)
class WeekGrid:
    """Which half hours of the week browsing is allowed in: 7 rows of `SLOTS_PER_DAY`."""

    allowed: tuple[tuple[bool, ...], ...]

    def __post_init__(self) -> None:
        if len(self.allowed) != len(DAYS) or any(len(r) != SLOTS_PER_DAY for r in self.allowed):
            raise ValueError(f"a week grid is {len(DAYS)} days of {SLOTS_PER_DAY} half hours")

    @classmethod
    def filled(cls, allowed: bool) -> WeekGrid:
        return cls(tuple((allowed,) * SLOTS_PER_DAY for _ in DAYS))

    def __getitem__(self, cell: Cell) -> bool:
        day, slot = cell
        return self.allowed[day][slot]

    def painted(self, cells: Iterable[Cell], allowed: bool) -> WeekGrid:
        """This grid with `cells` set to `allowed`."""
        rows = [list(row) for row in self.allowed]
        for day, slot in cells:
            rows[day][slot] = allowed
        return WeekGrid(tuple(tuple(row) for row in rows))

    @property
    def always(self) -> bool:
        return all(all(row) for row in self.allowed)

    @property
    def never(self) -> bool:
        return not any(any(row) for row in self.allowed)


def block(first: Cell, last: Cell) -> list[Cell]:
    """The cells of the rectangle between two corners (a drag on the grid), in any order."""
    days = range(min(first[0], last[0]), max(first[0], last[0]) + 1)
    slots = range(min(first[1], last[1]), max(first[1], last[1]) + 1)
    return [(day, slot) for day in days for slot in slots]


def slot_clock(slot: int) -> str:
    """The "HH:MM" at which half hour `slot` starts; `SLOTS_PER_DAY` gives "24:00"."""
    minutes = slot * SLOT_MINUTES
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(clock: str) -> int:
    found = _CLOCK.fullmatch(clock.strip())
    minutes = int(found.group(1)) * 60 + int(found.group(2)) if found else -1
    if not 0 <= minutes <= _MINUTES_PER_DAY:
        raise ScheduleGridError(f"time {clock!r} is not HH:MM (24-hour clock)")
    return minutes


def _spans(window: Window) -> list[tuple[int, int, int]]:
    """(day, start minute, end minute) of a window, split at midnight as the agent does."""
    start, end = _minutes(window.start), _minutes(window.end)
    if start == end:
        raise ScheduleGridError(f"window {window.start}-{window.end} is empty")
    spans = []
    for name in window.days:
        if name not in DAYS:
            raise ScheduleGridError(f"{name!r} is not a day ({', '.join(DAYS)})")
        day = DAYS.index(name)
        if start < end:
            spans.append((day, start, end))
        else:
            spans.append((day, start, _MINUTES_PER_DAY))
            if end > 0:
                spans.append(((day + 1) % len(DAYS), 0, end))
    return spans


@dataclass(frozen=True, slots=True)
class GridReading:
    """The grid of a schedule, and whether it shows the schedule exactly."""

    grid: WeekGrid
    exact: bool


def grid_from_windows(windows: Sequence[Window]) -> GridReading:
    """The half hours the windows allow.  No windows: every half hour.  A half hour that a
    window covers only in part is not allowed, and the reading is then not exact."""
    if not windows:
        return GridReading(WeekGrid.filled(True), True)
    minutes = [bytearray(_MINUTES_PER_DAY) for _ in DAYS]
    for window in windows:
        for day, start, end in _spans(window):
            minutes[day][start:end] = b"\x01" * (end - start)
    rows = []
    exact = True
    for day_minutes in minutes:
        row = []
        for slot in range(SLOTS_PER_DAY):
            part = day_minutes[slot * SLOT_MINUTES : (slot + 1) * SLOT_MINUTES]
            full = all(part)
            exact = exact and (full or not any(part))
            row.append(full)
        rows.append(tuple(row))
    return GridReading(WeekGrid(tuple(rows)), exact)


def windows_from_grid(grid: WeekGrid) -> tuple[Window, ...]:
    """The fewest plain windows for a grid: each run of allowed half hours in a day, the days
    that share a run written as one window (weekdays 16:00-20:00), in the order of the week.

    Every half hour allowed gives no windows ("at any time"); none allowed is refused
    (`NothingAllowed`).  Runs are not joined across midnight: a run to the end of a day ends
    at "24:00" and the next day's starts at "00:00", which the agent reads the same."""
    if grid.always:
        return ()
    if grid.never:
        raise NothingAllowed("no time is allowed; the policy cannot say that with windows")
    days_of: dict[tuple[int, int], list[str]] = {}
    for day, row in enumerate(grid.allowed):
        slot = 0
        while slot < SLOTS_PER_DAY:
            if not row[slot]:
                slot += 1
                continue
            end = slot
            while end < SLOTS_PER_DAY and row[end]:
                end += 1
            days_of.setdefault((slot, end), []).append(DAYS[day])
            slot = end
    ordered = sorted(days_of.items(), key=lambda item: (DAYS.index(item[1][0]), item[0]))
    return tuple(
        Window(tuple(days), slot_clock(start), slot_clock(end)) for (start, end), days in ordered
    )
