"""Sites whose pages are mostly flagged images are held for an hour, per profile."""

from __future__ import annotations

import datetime as dt

from abhaya.agent.imagesites import HOLD, WINDOW, HeldSites
from abhaya.filters.policy.compile import ImageScreening
from abhaya.filters.verdict import Category

RULES = ImageScreening(page_share=0.5, page_min_images=4)
START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now


def test_a_site_is_held_once_enough_of_its_images_are_flagged() -> None:
    clock = Clock()
    sites = HeldSites(clock)
    crossed = [sites.note("child", "pics.example", flag, RULES) for flag in (1, 0, 1, 0)]
    assert crossed == [False, False, False, True]  # 4 screened, half flagged
    assert sites.held("child", "pics.example") is Category.ADULT
    assert sites.held("teen", "pics.example") is None  # per profile
    assert sites.held("child", "other.example") is None
    clock.now += HOLD
    assert sites.held("child", "pics.example") is None  # an hour later it may load again


def test_too_few_images_or_too_few_flagged_hold_nothing() -> None:
    sites = HeldSites(Clock())
    for _ in range(3):
        sites.note("child", "news.example", True, RULES)
    assert sites.held("child", "news.example") is None  # 3 of 3, but fewer than 4 screened
    for _ in range(10):
        sites.note("child", "shop.example", False, RULES)
    sites.note("child", "shop.example", True, RULES)
    assert sites.held("child", "shop.example") is None


def test_counts_start_again_after_the_window() -> None:
    clock = Clock()
    sites = HeldSites(clock)
    for _ in range(3):
        sites.note("child", "pics.example", True, RULES)
    clock.now += WINDOW + dt.timedelta(seconds=1)
    assert not sites.note("child", "pics.example", True, RULES)  # 1 of 1 in a new window
    assert sites.held("child", "pics.example") is None


def test_a_known_image_holds_its_site_at_once() -> None:
    sites = HeldSites(Clock())
    sites.hold("child", "bad.example", Category.CSAM)
    assert sites.held("child", "bad.example") is Category.CSAM


def test_the_table_is_bounded() -> None:
    sites = HeldSites(Clock(), max_sites=100)
    for number in range(1_000):
        sites.note("child", f"site{number}.example", False, RULES)
    assert len(sites) == 100
