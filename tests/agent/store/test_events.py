from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from abhaya.agent.store import Event, EventKind, url_without_query
from abhaya.agent.store.events import from_us, to_us


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/a/b?q=search+terms#top", "https://example.org/a/b"),
        ("https://example.org/", "https://example.org/"),
        ("https://example.org", "https://example.org"),
        ("http://user:secret@example.org:8080/p?token=1", "http://example.org:8080/p"),
        ("https://EXAMPLE.org/Path;params?x=1", "https://example.org/Path;params"),
        ("http://[2001:db8::1]:8443/x?y=z", "http://[2001:db8::1]:8443/x"),
        ("https://example.org/search?", "https://example.org/search"),
    ],
)
def test_url_without_query(url: str, expected: str) -> None:
    assert url_without_query(url) == expected


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2026, 11, 30, 4, 30, 0, 1, tzinfo=UTC),
        datetime(2038, 1, 19, 3, 14, 8, 999999, tzinfo=UTC),
        datetime(2026, 11, 30, 10, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ],
)
def test_microsecond_times_round_trip_exactly(moment: datetime) -> None:
    assert from_us(to_us(moment)) == moment
    assert from_us(to_us(moment)).tzinfo is UTC


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Event(time=datetime(2026, 1, 1), kind=EventKind.VERDICT)
    with pytest.raises(ValueError, match="timezone-aware"):
        to_us(datetime(2026, 1, 1))


def test_url_without_query_never_raises_on_a_bad_port() -> None:
    stripped = url_without_query("http://::1:8080/x?q=secret")
    assert "secret" not in stripped and stripped.endswith("/x")
