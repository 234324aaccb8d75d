from __future__ import annotations

import random
import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest

from abhaya.agent.store import Event, EventKind, Store
from abhaya.agent.store.driver import transaction
from abhaya.agent.store.events import insert_events
from abhaya.agent.store.queries import (
    MAX_PAGE_SIZE,
    DayCategoryCount,
    EventFilter,
    NameCount,
    PageCursor,
    category_counts_by_day,
    counts_today,
    events_page,
    top_apps,
    top_domains,
)
from abhaya.agent.store.retention import run_retention
from tests.agent.store.conftest import T0, make_event

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)

# Generated history: (age before T0, kind, category, action, domain, app)
ROWS = [
    (0 * HOUR, EventKind.VERDICT, "adult", "block", "adult.example", "firefox"),
    (1 * HOUR, EventKind.VERDICT, "adult", "block", "adult.example", "firefox"),
    (2 * HOUR, EventKind.VERDICT, "gambling", "block", "bet.example", "chrome"),
    (3 * HOUR, EventKind.VERDICT, "self_harm", "warn", "forum.example", ""),
    (4 * HOUR, EventKind.PIN_FAILED, "", "", "", "abhaya-console"),
    (1 * DAY, EventKind.VERDICT, "adult", "block", "also-adult.example", "firefox"),
    (1 * DAY, EventKind.VERDICT, "gambling", "warn", "bet.example", ""),
    (2 * DAY, EventKind.VERDICT, "games", "warn", "games.example", "steam"),
    (2 * DAY, EventKind.TAMPER, "", "", "", ""),
    (40 * DAY, EventKind.VERDICT, "adult", "block", "old.example", "firefox"),
]
TEEN_ROWS = {3, 7}
"""Rows of the second child's profile; the rest are "child"'s."""
LIST_ROWS = {0, 3, 5}
"""Rows blocked for being on a list (reason `list`); the rest give no reason."""


def _events() -> list[Event]:
    return [
        make_event(
            time=T0 - age,
            kind=kind,
            category=category,
            action=action,
            domain=domain,
            url=f"https://{domain}/x" if domain else "",
            rule=domain,
            app=app,
            detail=f"row {n} 100%_done" if n == 3 else f"row {n}",
            profile="teen" if n in TEEN_ROWS else "child",
            reason="list" if n in LIST_ROWS else "",
        )
        for n, (age, kind, category, action, domain, app) in enumerate(ROWS)
    ]


@pytest.fixture
def conn(store: Store) -> Iterator[sqlite3.Connection]:
    connection = store.connect()
    with transaction(connection):
        insert_events(connection, _events())
    yield connection
    connection.close()


def _all_pages(conn: sqlite3.Connection, where: EventFilter, limit: int) -> list[int]:
    ids: list[int] = []
    cursor = None
    while True:
        page = events_page(conn, where, limit=limit, after=cursor)
        ids.extend(stored.id for stored in page.events)
        if page.next_cursor is None:
            return ids
        cursor = PageCursor.parse(page.next_cursor.token())


@pytest.mark.parametrize(
    ("where", "expected_rows"),
    [
        (EventFilter(), list(range(10))),
        (EventFilter(kinds=(EventKind.TAMPER,)), [8]),
        (EventFilter(kinds=(EventKind.TAMPER, EventKind.PIN_FAILED)), [4, 8]),
        (EventFilter(categories=("gambling",)), [2, 6]),
        (EventFilter(categories=("gambling", "games")), [2, 6, 7]),
        (EventFilter(since=T0 - 3 * HOUR), [0, 1, 2, 3]),
        (EventFilter(since=T0 - 2 * DAY, until=T0 - DAY), [7, 8]),
        (EventFilter(text="BET.example"), [2, 6]),
        (EventFilter(text="/x"), [0, 1, 2, 3, 5, 6, 7, 9]),
        (EventFilter(text="100%_"), [3]),
        (EventFilter(text="%"), [3]),
        (EventFilter(text="row 9"), [9]),
        (EventFilter(categories=("adult",), since=T0 - 30 * DAY, text="also"), [5]),
        (EventFilter(categories=("nothing",)), []),
        (EventFilter(profiles=("teen",)), [3, 7]),
        (EventFilter(profiles=("teen", "child")), list(range(10))),
        (EventFilter(profiles=("teen",), categories=("games",)), [7]),
        (EventFilter(profiles=("nobody",)), []),
        (EventFilter(reasons=("list",)), [0, 3, 5]),
        (EventFilter(reasons=("list",), profiles=("child",)), [0, 5]),
    ],
)
def test_filters_select_the_expected_events(
    conn: sqlite3.Connection, where: EventFilter, expected_rows: list[int]
) -> None:
    page = events_page(conn, where, limit=MAX_PAGE_SIZE)
    assert sorted(stored.id - 1 for stored in page.events) == expected_rows
    assert page.next_cursor is None


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 9, 10, 11])
def test_paging_visits_every_event_once_newest_first(conn: sqlite3.Connection, limit: int) -> None:
    ids = _all_pages(conn, EventFilter(), limit)
    expected = events_page(conn, limit=MAX_PAGE_SIZE).events
    assert ids == [stored.id for stored in expected]
    times = [stored.event.time for stored in expected]
    assert times == sorted(times, reverse=True)


def test_paging_is_stable_across_equal_times_and_new_arrivals(store: Store) -> None:
    conn = store.connect()
    with transaction(conn):
        insert_events(conn, [make_event(time=T0, detail=str(n)) for n in range(7)])
    first = events_page(conn, limit=3)
    with transaction(conn):  # a newer event arrives while the parent reads page 1
        insert_events(conn, [make_event(time=T0 + HOUR)])
    rest = _all_pages_after(conn, first.next_cursor)
    conn.close()
    assert [s.event.detail for s in first.events] + rest == [str(n) for n in range(6, -1, -1)]


def _all_pages_after(conn: sqlite3.Connection, cursor: PageCursor | None) -> list[str]:
    details: list[str] = []
    while cursor is not None:
        page = events_page(conn, limit=2, after=cursor)
        details.extend(stored.event.detail for stored in page.events)
        cursor = page.next_cursor
    return details


def test_events_read_back_whole(conn: sqlite3.Connection) -> None:
    newest = events_page(conn, limit=1).events[0]
    assert newest.event == _events()[0]


@pytest.mark.parametrize("token", ["", "12", "12.", ".3", "a.b", "-1.2", "1.2.3", "1e3.4"])
def test_malformed_cursor_tokens_are_refused(token: str) -> None:
    with pytest.raises(ValueError, match="not a page cursor"):
        PageCursor.parse(token)


@pytest.mark.parametrize("limit", [0, -1, MAX_PAGE_SIZE + 1])
def test_page_sizes_are_bounded(conn: sqlite3.Connection, limit: int) -> None:
    with pytest.raises(ValueError, match="page size"):
        events_page(conn, limit=limit)


def test_counts_per_category_per_day(conn: sqlite3.Connection) -> None:
    counts = category_counts_by_day(conn, T0 - 3 * DAY, T0 + HOUR)
    today, yesterday, before = T0.date(), T0.date() - DAY, T0.date() - 2 * DAY
    assert counts == (
        DayCategoryCount(before, "games", 1),
        DayCategoryCount(yesterday, "adult", 1),
        DayCategoryCount(yesterday, "gambling", 1),
        DayCategoryCount(today, "adult", 2),
        DayCategoryCount(today, "gambling", 1),
        DayCategoryCount(today, "self_harm", 1),
    )


def test_days_follow_the_local_offset(conn: sqlite3.Connection) -> None:
    # T0 is 04:30 UTC on the 30th; at UTC-05:00 the events of its first hours are on the 29th.
    counts = category_counts_by_day(conn, T0 - 4 * HOUR, T0 + HOUR, utc_offset=-5 * HOUR)
    assert counts == (
        DayCategoryCount(date(2026, 11, 29), "adult", 2),
        DayCategoryCount(date(2026, 11, 29), "gambling", 1),
        DayCategoryCount(date(2026, 11, 29), "self_harm", 1),
    )


def _reference_counts(
    events: list[Event], since: datetime, until: datetime, offset: timedelta
) -> tuple[DayCategoryCount, ...]:
    counts = Counter(
        ((e.time + offset).date(), e.category)
        for e in events
        if e.category and since <= e.time < until
    )
    return tuple(DayCategoryCount(day, cat, n) for (day, cat), n in sorted(counts.items()))


@pytest.mark.parametrize(
    ("since", "until"),
    [
        (T0 - 50 * DAY, T0 + DAY),
        (T0 - 3 * HOUR - timedelta(minutes=7), T0 + timedelta(seconds=1)),
        (T0 - DAY, T0 - DAY + timedelta(microseconds=1)),
        (T0 - 10 * timedelta(minutes=1), T0 - timedelta(minutes=9)),
        (T0 - 2 * DAY + timedelta(minutes=1), T0),
    ],
)
@pytest.mark.parametrize("offset", [timedelta(0), timedelta(hours=5, minutes=30), -5 * HOUR])
def test_bucketed_counts_equal_counting_every_event(
    store: Store, since: datetime, until: datetime, offset: timedelta
) -> None:
    rng = random.Random(7)
    events = [
        make_event(
            time=T0 - timedelta(seconds=rng.randrange(3 * 86400)),
            category=rng.choice(["adult", "games", ""]),
        )
        for _ in range(400)
    ]
    conn = store.connect()
    with transaction(conn):
        insert_events(conn, events)
    result = category_counts_by_day(conn, since, until, utc_offset=offset)
    conn.close()
    assert result == _reference_counts(events, since, until, offset)


def test_bucket_counts_follow_deletes_and_updates(conn: sqlite3.Connection) -> None:
    check = (
        "SELECT time_us / 900000000, category, count(*) FROM events WHERE category != '' "
        "GROUP BY 1, 2 ORDER BY 1, 2"
    )
    buckets = "SELECT bucket, category, count FROM category_buckets ORDER BY 1, 2"
    assert conn.execute(buckets).fetchall() == conn.execute(check).fetchall()
    run_retention(conn, T0, events_days=2)
    conn.execute("UPDATE events SET category = 'games' WHERE category = 'gambling'")
    conn.execute("UPDATE events SET category = '' WHERE category = 'self_harm'")
    assert conn.execute(buckets).fetchall() == conn.execute(check).fetchall()


@pytest.mark.parametrize("offset", [timedelta(minutes=10), timedelta(seconds=1)])
def test_offsets_must_be_whole_quarter_hours(conn: sqlite3.Connection, offset: timedelta) -> None:
    with pytest.raises(ValueError, match="quarter hours"):
        category_counts_by_day(conn, T0 - DAY, T0, utc_offset=offset)


def test_top_domains_and_apps(conn: sqlite3.Connection) -> None:
    since, until = T0 - 3 * DAY, T0 + HOUR
    assert top_domains(conn, since, until, limit=2) == (
        NameCount("adult.example", 2),
        NameCount("bet.example", 2),
    )
    assert top_apps(conn, since, until) == (
        NameCount("firefox", 3),
        NameCount("abhaya-console", 1),
        NameCount("chrome", 1),
        NameCount("steam", 1),
    )


def test_counts_today(conn: sqlite3.Connection) -> None:
    summary = counts_today(conn, T0)
    assert summary.total == 5
    assert dict(summary.by_kind) == {"verdict": 4, "pin_failed": 1}
    assert dict(summary.by_action) == {"block": 3, "warn": 1}
    # At UTC-03:00 it is 01:30 on the 30th: the day began at 03:00 UTC, two events ago.
    assert counts_today(conn, T0, utc_offset=-3 * HOUR).total == 2


def _plan(conn: sqlite3.Connection, sql: str, params: tuple[object, ...]) -> str:
    rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    return " | ".join(str(row[-1]) for row in rows)


PAGE = "SELECT * FROM events {where} ORDER BY time_us DESC, id DESC LIMIT 51"


@pytest.mark.parametrize(
    ("where", "params", "index"),
    [
        ("", (), "events_time"),
        ("WHERE (time_us, id) < (?, ?)", (5, 5), "events_time"),
        ("WHERE time_us >= ? AND time_us < ?", (1, 2), "events_time"),
        ("WHERE category IN (?)", ("adult",), "events_category_time"),
        ("WHERE kind IN (?) AND (time_us, id) < (?, ?)", ("tamper", 5, 5), "events_kind_time"),
        ("WHERE profile IN (?)", ("teen",), "events_profile_time"),
        ("WHERE reason IN (?)", ("list",), "events_reason_time"),
    ],
)
def test_pages_are_read_from_an_index_without_sorting(
    conn: sqlite3.Connection, where: str, params: tuple[object, ...], index: str
) -> None:
    plan = _plan(conn, PAGE.format(where=where), params)
    assert f"USING INDEX {index}" in plan
    assert "TEMP B-TREE" not in plan


def test_category_stats_read_buckets_by_primary_key(conn: sqlite3.Connection) -> None:
    plan = _plan(
        conn,
        "SELECT (bucket * ? + ?) / ? AS day, category, sum(count) FROM category_buckets "
        "WHERE bucket >= ? AND bucket < ? GROUP BY day, category",
        (900_000_000, 0, 86_400_000_000, 0, 1),
    )
    assert "USING PRIMARY KEY (bucket>? AND bucket<?)" in plan


def test_category_stats_edges_read_only_the_covering_index(conn: sqlite3.Connection) -> None:
    plan = _plan(
        conn,
        "SELECT (time_us + ?) / ? AS day, category, count(*) FROM events "
        "WHERE time_us >= ? AND time_us < ? AND category != '' GROUP BY day, category",
        (0, 86_400_000_000, 0, 1),
    )
    assert "USING COVERING INDEX events_time_category" in plan
