"""Weekly schedules: is browsing allowed at this moment?

Windows are evaluated in the policy's time zone, so a laptop that travels or a machine whose
clock runs in UTC still follows the family's local hours.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from abhaya.filters.policy.model import Day, Window, minutes_of

_MINUTES_PER_DAY = 24 * 60
_DAY_INDEX = {day: index for index, day in enumerate(Day)}


@dataclass(frozen=True, slots=True)
class Schedule:
    """Allowed spans as (weekday, start minute, end minute) with end exclusive, midnight-split."""

    spans: tuple[tuple[int, int, int], ...]
    zone: ZoneInfo

    @classmethod
    def compile(cls, windows: Sequence[Window], zone: ZoneInfo) -> Schedule:
        spans: list[tuple[int, int, int]] = []
        for window in windows:
            start, end = minutes_of(window.start), minutes_of(window.end)
            for day in window.days:
                index = _DAY_INDEX[day]
                if start < end:
                    spans.append((index, start, end))
                else:  # runs past midnight into the next day
                    spans.append((index, start, _MINUTES_PER_DAY))
                    if end > 0:
                        spans.append(((index + 1) % 7, 0, end))
        return cls(tuple(sorted(spans)), zone)

    @property
    def always(self) -> bool:
        """No windows configured: browsing is allowed at any time."""
        return not self.spans

    def allows(self, now: dt.datetime) -> bool:
        """Whether `now` (an aware datetime) falls in an allowed window."""
        if self.always:
            return True
        if now.tzinfo is None:
            raise ValueError("schedule needs an aware datetime")
        local = now.astimezone(self.zone)
        weekday, minute = local.weekday(), local.hour * 60 + local.minute
        return any(day == weekday and start <= minute < end for day, start, end in self.spans)

    def next_opening(self, now: dt.datetime) -> dt.datetime | None:
        """When browsing is next allowed after `now`, in the schedule's time zone (what a
        blocked page tells the child); None when `now` is allowed already.

        The earliest window start after `now` within a week: a window that runs past midnight
        is two spans, and its morning half never comes first, since the evening half before it
        would have allowed `now`."""
        if self.allows(now):
            return None
        local = now.astimezone(self.zone)
        weekday, minute = local.weekday(), local.hour * 60 + local.minute
        ahead = min(
            ((day - weekday) % 7 or (7 if start <= minute else 0)) * _MINUTES_PER_DAY + start
            for day, start, _ in self.spans
        )
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
        opening = midnight + dt.timedelta(minutes=ahead)
        return opening.replace(tzinfo=self.zone)
