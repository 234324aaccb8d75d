"""Sites whose pages are mostly flagged images get a warning page instead, for a while.

Blurring image after image leaves a child scrolling through a wall of blurred pictures on a
site that is plainly not for them.  So the proxy notes, per profile and page site (the host
of the page the images were on, from the Referer), how many images it screened and how many
it flagged in the last `WINDOW`.  Once at least `page_min_images` were screened and the flagged
share reaches `page_share`, the site is held: for `HOLD`, every page of it is answered with a
warning.  A known-image match for a zero-tolerance list holds the site at once.

The table is bounded (`MAX_SITES`, the oldest entries go first) so a crawl of a million hosts
cannot grow the agent.  It lives in memory only: a restart forgets it, which costs a child
one more blurred page, never a missed block (each image is still screened).
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from abhaya.filters.policy.compile import ImageScreening
from abhaya.filters.verdict import Category

WINDOW = dt.timedelta(minutes=10)
HOLD = dt.timedelta(hours=1)
MAX_SITES = 10_000


@dataclass(slots=True)
class _Tally:
    since: dt.datetime
    screened: int = 0
    flagged: int = 0
    held_until: dt.datetime | None = None
    category: Category = Category.ADULT


class HeldSites:
    """Per (profile, site): images screened and flagged, and whether the site is held.

    Used from the proxy's event loop only, so it needs no lock.
    """

    def __init__(self, clock: Callable[[], dt.datetime], max_sites: int = MAX_SITES) -> None:
        self._clock = clock
        self._max = max_sites
        self._tallies: OrderedDict[tuple[str, str], _Tally] = OrderedDict()

    def note(self, profile: str, site: str, flagged: bool, rules: ImageScreening) -> bool:
        """Count one screened image of `site`'s page; True when this one makes the site held."""
        now = self._clock()
        tally = self._tally(profile, site, now)
        if now - tally.since > WINDOW:
            tally.since, tally.screened, tally.flagged = now, 0, 0
        tally.screened += 1
        tally.flagged += int(flagged)
        if self._held(tally, now) or tally.screened < rules.page_min_images:
            return False
        if tally.flagged / tally.screened >= rules.page_share:
            tally.held_until, tally.category = now + HOLD, Category.ADULT
            return True
        return False

    def hold(self, profile: str, site: str, category: Category) -> None:
        """Hold the site at once (a known-image match on it)."""
        now = self._clock()
        tally = self._tally(profile, site, now)
        tally.held_until, tally.category = now + HOLD, category

    def held(self, profile: str, site: str) -> Category | None:
        """The category the site is held for, or None when its pages may load."""
        tally = self._tallies.get((profile, site))
        if tally is None or not self._held(tally, self._clock()):
            return None
        return tally.category

    def __len__(self) -> int:
        return len(self._tallies)

    def _tally(self, profile: str, site: str, now: dt.datetime) -> _Tally:
        key = (profile, site)
        tally = self._tallies.get(key)
        if tally is None:
            tally = self._tallies[key] = _Tally(since=now)
            while len(self._tallies) > self._max:
                self._tallies.popitem(last=False)
        else:
            self._tallies.move_to_end(key)
        return tally

    @staticmethod
    def _held(tally: _Tally, now: dt.datetime) -> bool:
        return tally.held_until is not None and now < tally.held_until
