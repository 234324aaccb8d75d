from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from abhaya.agent.store import Event, EventKind, EventWriter, Store, url_without_query
from abhaya.agent.store.events import MAX_FIELD_CHARS, from_us, storable_text, to_us
from tests.agent.store.conftest import T0, make_event


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
        # urlsplit refuses these ("Invalid IPv6 URL"): cut by hand, never raise
        ("http://[x/", "http://[x/"),
        ("http://u:pw@[x/a/b?q=secret#f", "http://[x/a/b"),
        ("http://[::1/p?q=1", "http://[::1/p"),
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


def test_undecodable_request_bytes_are_escaped_visibly() -> None:
    """Bytes that are not UTF-8 arrive as lone surrogates (surrogateescape); UTF-8 cannot
    encode those, so the event keeps a visible escape instead."""
    host = b"1xbet.\xdfom".decode("utf-8", "surrogateescape")
    event = Event(time=T0, kind=EventKind.VERDICT, domain=host, detail="a \ud800 b")
    assert event.domain == "1xbet.\\xdfom"
    assert event.detail == "a \\ud800 b"
    for value in (event.domain, event.detail):
        value.encode("utf-8")  # storable: no error


def test_over_long_fields_are_cut_and_say_so() -> None:
    event = Event(time=T0, kind=EventKind.VERDICT, url="https://a.example/" + "p" * 100_000)
    assert len(event.url) < MAX_FIELD_CHARS + 60
    assert event.url.endswith(f"[{100_018 - MAX_FIELD_CHARS} more characters not kept]")
    assert storable_text("short") == "short"


def test_a_hostile_event_is_stored_and_the_writer_goes_on(store: Store) -> None:
    host = b"1xbet.\xdfom".decode("utf-8", "surrogateescape")
    with EventWriter(store.connect, retention=None) as writer:
        writer.submit(make_event(domain=host, url=f"http://{host}/"))
        assert writer.flush()
        writer.submit(make_event(domain="after.example"))
        assert writer.flush()
        assert writer.health().failed == 0
    with contextlib.closing(store.connect(read_only=True)) as conn:
        domains = [row[0] for row in conn.execute("SELECT domain FROM events ORDER BY id")]
    assert domains == ["1xbet.\\xdfom", "after.example"]
