"""Read-side queries for the console and the control API.

Pages use keyset pagination on (time, id) newest first: the cursor is the last row shown, and
the next page starts strictly below it.  Unlike OFFSET this costs the same on page 1000 as on
page 1, and rows arriving meanwhile never shift a page.  Every query here is shaped to use an
index from migrations 3, 5 and 7 (or the bucket counts of migration 4);
tests/agent/store/test_queries.py checks the plans with EXPLAIN QUERY PLAN, and bench/store
measures them on a million events.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from abhaya.agent.store.events import (
    EPOCH,
    EVENT_COLUMNS,
    EventKind,
    StoredEvent,
    event_from_row,
    to_us,
)
from abhaya.agent.store.migrations import BUCKET_US

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
_US_PER_DAY = 86_400_000_000


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events to list.  Empty tuples mean "any"; `since` is inclusive, `until` exclusive.

    `text` matches (case-insensitively for ASCII) anywhere in domain, url, rule or detail.
    """

    kinds: tuple[EventKind, ...] = ()
    categories: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    text: str = ""


@dataclass(frozen=True, slots=True)
class PageCursor:
    """Position after the last row of a page; `token()` is what the API hands to clients."""

    time_us: int
    id: int

    def token(self) -> str:
        return f"{self.time_us}.{self.id}"

    @classmethod
    def parse(cls, token: str) -> PageCursor:
        """Inverse of token(); ValueError for anything else (tokens come from clients)."""
        time_text, sep, id_text = token.partition(".")
        if not sep or not time_text.isdigit() or not id_text.isdigit():
            raise ValueError(f"not a page cursor: {token!r}")
        return cls(int(time_text), int(id_text))


@dataclass(frozen=True, slots=True)
class EventPage:
    events: tuple[StoredEvent, ...]
    next_cursor: PageCursor | None
    """None on the last page."""


@dataclass(frozen=True, slots=True)
class DayCategoryCount:
    day: date
    category: str
    count: int


@dataclass(frozen=True, slots=True)
class NameCount:
    name: str
    count: int


@dataclass(frozen=True, slots=True)
class CountSummary:
    total: int
    by_kind: Mapping[str, int]
    by_action: Mapping[str, int]
    """Verdict actions (block, warn, rewrite, ...) of verdict events."""


def events_page(
    conn: sqlite3.Connection,
    where: EventFilter = EventFilter(),
    *,
    limit: int = DEFAULT_PAGE_SIZE,
    after: PageCursor | None = None,
) -> EventPage:
    """One page of events matching `where`, newest first, starting after `after`."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"page size must be 1..{MAX_PAGE_SIZE}, got {limit}")
    clauses, params = _filter_clauses(where)
    if after is not None:
        clauses.append("(time_us, id) < (?, ?)")
        params.extend((after.time_us, after.id))
    sql = (
        f"SELECT id, {EVENT_COLUMNS} FROM events {_where_sql(clauses)} "
        "ORDER BY time_us DESC, id DESC LIMIT ?"
    )
    rows = conn.execute(sql, (*params, limit + 1)).fetchall()
    events = tuple(event_from_row(row) for row in rows[:limit])
    more = len(rows) > limit
    last = events[-1] if events else None
    cursor = PageCursor(to_us(last.event.time), last.id) if more and last is not None else None
    return EventPage(events, cursor)


def event_by_id(conn: sqlite3.Connection, ident: int) -> StoredEvent | None:
    """The event with id `ident`, or None when there is none (never was, or retention ended it)."""
    row = conn.execute(f"SELECT id, {EVENT_COLUMNS} FROM events WHERE id = ?", (ident,)).fetchone()
    return None if row is None else event_from_row(row)


def category_counts_by_day(
    conn: sqlite3.Connection,
    since: datetime,
    until: datetime,
    *,
    utc_offset: timedelta = timedelta(0),
) -> tuple[DayCategoryCount, ...]:
    """Events per category per day in [since, until); days are local to `utc_offset`.

    Whole 15-minute buckets come from `category_buckets` (kept by triggers), the partial
    buckets at either end from the events themselves, so the counts are exact for any range.
    The offset is fixed for the whole range (a DST change moves at most an hour between two
    days) and must be whole quarter hours, as every UTC offset in use is.
    """
    offset_us = utc_offset // timedelta(microseconds=1)
    if offset_us % BUCKET_US:
        raise ValueError(f"UTC offset {utc_offset} is not a whole number of quarter hours")
    start, end = to_us(since), to_us(until)
    counts: dict[tuple[int, str], int] = {}
    first_bucket, end_bucket = -(-start // BUCKET_US), end // BUCKET_US
    if first_bucket < end_bucket:
        rows = conn.execute(
            "SELECT (bucket * ? + ?) / ? AS day, category, sum(count) FROM category_buckets "
            "WHERE bucket >= ? AND bucket < ? GROUP BY day, category",
            (BUCKET_US, offset_us, _US_PER_DAY, first_bucket, end_bucket),
        ).fetchall()
        _add_counts(counts, rows)
        edges = [(start, first_bucket * BUCKET_US), (end_bucket * BUCKET_US, end)]
    else:
        edges = [(start, end)]
    for low, high in edges:
        if low < high:
            _add_counts(counts, _event_counts_by_day(conn, low, high, offset_us))
    return tuple(
        DayCategoryCount((EPOCH + timedelta(days=day)).date(), category, count)
        for (day, category), count in sorted(counts.items())
        if count
    )


def _event_counts_by_day(
    conn: sqlite3.Connection, start_us: int, end_us: int, offset_us: int
) -> list[tuple[object, ...]]:
    """Per-category-per-day counts straight from the (time_us, category) covering index."""
    return conn.execute(
        "SELECT (time_us + ?) / ? AS day, category, count(*) FROM events "
        "WHERE time_us >= ? AND time_us < ? AND category != '' GROUP BY day, category",
        (offset_us, _US_PER_DAY, start_us, end_us),
    ).fetchall()


def _add_counts(counts: dict[tuple[int, str], int], rows: list[tuple[object, ...]]) -> None:
    for day, category, count in rows:
        if not isinstance(day, int) or not isinstance(count, int):
            raise TypeError(f"unexpected count row {day!r}, {count!r}")
        key = (day, str(category))
        counts[key] = counts.get(key, 0) + count


def top_domains(
    conn: sqlite3.Connection, since: datetime, until: datetime, *, limit: int = 10
) -> tuple[NameCount, ...]:
    """The domains with most events in [since, until)."""
    return _top(conn, "domain", since, until, limit)


def top_apps(
    conn: sqlite3.Connection, since: datetime, until: datetime, *, limit: int = 10
) -> tuple[NameCount, ...]:
    """The apps/processes with most events in [since, until) (only events that name one)."""
    return _top(conn, "app", since, until, limit)


def counts_between(conn: sqlite3.Connection, since: datetime, until: datetime) -> CountSummary:
    """Totals per kind, and per action of verdicts, in [since, until)."""
    rows = conn.execute(
        "SELECT kind, action, count(*) FROM events WHERE time_us >= ? AND time_us < ? "
        "GROUP BY kind, action",
        (to_us(since), to_us(until)),
    ).fetchall()
    by_kind: dict[str, int] = {}
    by_action: dict[str, int] = {}
    for kind, action, count in rows:
        by_kind[str(kind)] = by_kind.get(str(kind), 0) + int(count)
        if kind == EventKind.VERDICT and action:
            by_action[str(action)] = by_action.get(str(action), 0) + int(count)
    return CountSummary(sum(by_kind.values()), by_kind, by_action)


def counts_today(
    conn: sqlite3.Connection, now: datetime, *, utc_offset: timedelta = timedelta(0)
) -> CountSummary:
    """counts_between for the local day (per `utc_offset`) that contains `now`."""
    start = local_day_start(now, utc_offset)
    return counts_between(conn, start, start + timedelta(days=1))


def local_day_start(now: datetime, utc_offset: timedelta) -> datetime:
    """The start (as a UTC time) of the local day, per `utc_offset`, that contains `now`:
    "today" is the family's day, not the server's."""
    local = now.astimezone(UTC) + utc_offset
    return datetime(local.year, local.month, local.day, tzinfo=UTC) - utc_offset


def _top(
    conn: sqlite3.Connection, column: str, since: datetime, until: datetime, limit: int
) -> tuple[NameCount, ...]:
    # `column` is one of two literals from this module, never client input.
    rows = conn.execute(
        f"SELECT {column}, count(*) AS n FROM events "
        f"WHERE time_us >= ? AND time_us < ? AND {column} != '' "
        f"GROUP BY {column} ORDER BY n DESC, {column} LIMIT ?",
        (to_us(since), to_us(until), limit),
    ).fetchall()
    return tuple(NameCount(str(name), int(count)) for name, count in rows)


def _filter_clauses(where: EventFilter) -> tuple[list[str], list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if where.kinds:
        clauses.append(f"kind IN ({', '.join('?' * len(where.kinds))})")
        params.extend(str(kind) for kind in where.kinds)
    if where.categories:
        clauses.append(f"category IN ({', '.join('?' * len(where.categories))})")
        params.extend(where.categories)
    if where.reasons:
        clauses.append(f"reason IN ({', '.join('?' * len(where.reasons))})")
        params.extend(where.reasons)
    if where.profiles:
        clauses.append(f"profile IN ({', '.join('?' * len(where.profiles))})")
        params.extend(where.profiles)
    if where.since is not None:
        clauses.append("time_us >= ?")
        params.append(to_us(where.since))
    if where.until is not None:
        clauses.append("time_us < ?")
        params.append(to_us(where.until))
    if where.text:
        pattern = "%" + _escape_like(where.text) + "%"
        clauses.append(
            "(domain LIKE ? ESCAPE '\\' OR url LIKE ? ESCAPE '\\' "
            "OR rule LIKE ? ESCAPE '\\' OR detail LIKE ? ESCAPE '\\')"
        )
        params.extend([pattern] * 4)
    return clauses, params


def _where_sql(clauses: list[str]) -> str:
    return ("WHERE " + " AND ".join(clauses)) if clauses else ""


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
