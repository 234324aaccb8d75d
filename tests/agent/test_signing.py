"""Page tokens: bound to their target, single-use, and the memory of used ones is bounded."""

from __future__ import annotations

import datetime as dt

from abhaya.agent import signing
from abhaya.agent.signing import PageTokens
from tests.conftest import MONDAY_MORNING

HOUR = dt.timedelta(hours=1)


def test_a_token_is_redeemed_once_and_only_for_its_target() -> None:
    tokens = PageTokens()
    token = tokens.issue("ask", "child", "https://bet.example:443", MONDAY_MORNING, HOUR)
    assert not tokens.redeem(token, "ask", "child", "http://bet.example:80", MONDAY_MORNING)
    assert tokens.redeem(token, "ask", "child", "https://bet.example:443", MONDAY_MORNING)
    assert not tokens.redeem(token, "ask", "child", "https://bet.example:443", MONDAY_MORNING)


def test_tokens_issued_in_the_same_second_differ() -> None:
    tokens = PageTokens()
    first, second = (tokens.issue("ask", "c", "h", MONDAY_MORNING, HOUR) for _ in range(2))
    assert first != second
    assert tokens.redeem(first, "ask", "c", "h", MONDAY_MORNING)
    assert tokens.redeem(second, "ask", "c", "h", MONDAY_MORNING)


def test_used_tokens_are_forgotten_when_they_expire_and_memory_is_bounded() -> None:
    tokens = PageTokens()
    limit = signing.MAX_REDEEMED
    issued = [tokens.issue("ask", "c", "h", MONDAY_MORNING, HOUR) for _ in range(limit + 1)]
    assert all(tokens.redeem(token, "ask", "c", "h", MONDAY_MORNING) for token in issued[:limit])
    # Full of unexpired used tokens: refused rather than forgetting one (which could be replayed).
    assert not tokens.redeem(issued[limit], "ask", "c", "h", MONDAY_MORNING)
    later = MONDAY_MORNING + dt.timedelta(minutes=30)
    fresh = tokens.issue("ask", "c", "h", later, HOUR)
    assert not tokens.redeem(fresh, "ask", "c", "h", later)
    # Once the first batch has expired, its memory is freed.
    after = MONDAY_MORNING + HOUR + dt.timedelta(seconds=1)
    assert tokens.redeem(fresh, "ask", "c", "h", after)
    assert tokens.redeemed_count == 1
