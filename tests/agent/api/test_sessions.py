"""Session tokens: expiry when idle and at the hard limit, revocation, bounded table."""

from __future__ import annotations

from datetime import timedelta

import pytest

from abhaya.agent.api.sessions import (
    IDLE_LIMIT,
    MAX_AGE,
    MAX_SESSIONS,
    SessionError,
    SessionStore,
)
from tests.agent.api.conftest import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_tokens_are_long_random_and_distinct(clock: Clock) -> None:
    sessions = SessionStore(clock)
    tokens = {sessions.create().token for _ in range(20)}
    assert len(tokens) == 20
    assert all(len(token) >= 43 for token in tokens)  # 32 bytes, base64url


def test_a_session_expires_when_idle(clock: Clock) -> None:
    sessions = SessionStore(clock)
    issued = sessions.create()
    assert issued.session.expires == clock() + IDLE_LIMIT
    clock.advance(minutes=14)
    sessions.check(issued.token)  # use restarts the idle time
    clock.advance(minutes=14)
    sessions.check(issued.token)
    clock.advance(minutes=15)
    with pytest.raises(SessionError, match="expired"):
        sessions.check(issued.token)
    with pytest.raises(SessionError):  # and it is gone for good
        sessions.check(issued.token)


def test_a_session_ends_at_the_hard_limit_however_busy(clock: Clock) -> None:
    sessions = SessionStore(clock)
    issued = sessions.create()
    used = timedelta(0)
    while used + timedelta(minutes=10) < MAX_AGE:
        clock.advance(minutes=10)
        used += timedelta(minutes=10)
        sessions.check(issued.token)
    clock.advance(minutes=10)
    with pytest.raises(SessionError):
        sessions.check(issued.token)


@pytest.mark.parametrize("token", ["", "x", "Bearer", "a" * 43, "\udcff"])
def test_unknown_tokens_are_refused(clock: Clock, token: str) -> None:
    sessions = SessionStore(clock)
    sessions.create()
    with pytest.raises(SessionError):
        sessions.check(token)


def test_revoke_ends_one_session_and_revoke_all_every_one(clock: Clock) -> None:
    sessions = SessionStore(clock)
    first, second, third = (sessions.create() for _ in range(3))
    assert sessions.revoke(first.token)
    assert not sessions.revoke(first.token)
    with pytest.raises(SessionError):
        sessions.check(first.token)
    sessions.check(second.token)
    sessions.revoke_all()
    for issued in (second, third):
        with pytest.raises(SessionError):
            sessions.check(issued.token)


def test_the_table_is_bounded_by_dropping_the_oldest(clock: Clock) -> None:
    sessions = SessionStore(clock)
    oldest = sessions.create()
    for _ in range(MAX_SESSIONS):
        clock.advance(seconds=1)
        newest = sessions.create()
    with pytest.raises(SessionError):
        sessions.check(oldest.token)
    sessions.check(newest.token)
