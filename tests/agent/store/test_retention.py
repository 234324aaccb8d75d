from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import timedelta

import pytest

from abhaya.agent.store import Store
from abhaya.agent.store.alerts import Alert, AlertSeverity, insert_alert
from abhaya.agent.store.driver import transaction
from abhaya.agent.store.events import insert_events, to_us
from abhaya.agent.store.retention import CHUNK_ROWS, RetentionCounts, run_retention
from tests.agent.store.conftest import T0, make_event

NOW = T0


@pytest.fixture
def conn(store: Store) -> Iterator[sqlite3.Connection]:
    connection = store.connect()
    yield connection
    connection.close()


def _add_events(conn: sqlite3.Connection, ages: list[timedelta]) -> None:
    with transaction(conn):
        insert_events(conn, [make_event(time=NOW - age) for age in ages])


def _add_alerts(conn: sqlite3.Connection, ages: list[timedelta]) -> None:
    with transaction(conn):
        for age in ages:
            insert_alert(conn, Alert(NOW - age, "test", AlertSeverity.INFO, "generated"))


def _times(conn: sqlite3.Connection, table: str) -> list[int]:
    return [int(row[0]) for row in conn.execute(f"SELECT time_us FROM {table} ORDER BY time_us")]


@pytest.mark.parametrize(
    ("events_days", "alerts_days", "expected"),
    [
        (90, 365, RetentionCounts(events=2, alerts=1)),
        (30, 365, RetentionCounts(events=3, alerts=1)),
        (1000, 1000, RetentionCounts(events=0, alerts=0)),
        (1, 1, RetentionCounts(events=4, alerts=2)),
    ],
)
def test_rows_older_than_the_period_are_deleted(
    conn: sqlite3.Connection, events_days: int, alerts_days: int, expected: RetentionCounts
) -> None:
    _add_events(conn, [timedelta(days=d) for d in (0, 10, 45, 91, 400)])
    _add_alerts(conn, [timedelta(days=d) for d in (0, 364, 366)])
    assert run_retention(conn, NOW, events_days, alerts_days) == expected
    assert len(_times(conn, "events")) == 5 - expected.events
    assert len(_times(conn, "alerts")) == 3 - expected.alerts


def test_a_row_exactly_at_the_cutoff_is_kept(conn: sqlite3.Connection) -> None:
    cutoff = timedelta(days=90)
    _add_events(conn, [cutoff, cutoff + timedelta(microseconds=1)])
    assert run_retention(conn, NOW) == RetentionCounts(events=1, alerts=0)
    assert _times(conn, "events") == [to_us(NOW - cutoff)]


def test_large_deletions_run_in_chunks_and_finish(conn: sqlite3.Connection) -> None:
    _add_events(conn, [timedelta(days=100)] * (2 * CHUNK_ROWS + 7) + [timedelta(days=1)])
    assert run_retention(conn, NOW).events == 2 * CHUNK_ROWS + 7
    assert len(_times(conn, "events")) == 1
    assert not conn.in_transaction


def test_max_rows_stops_after_whole_chunks(conn: sqlite3.Connection) -> None:
    _add_events(conn, [timedelta(days=100)] * (2 * CHUNK_ROWS + 7))
    _add_alerts(conn, [timedelta(days=400)] * 3)
    first = run_retention(conn, NOW, max_rows=CHUNK_ROWS)
    assert first == RetentionCounts(events=CHUNK_ROWS, alerts=3)
    assert run_retention(conn, NOW, max_rows=1).events == CHUNK_ROWS
    assert run_retention(conn, NOW, max_rows=CHUNK_ROWS).events == 7
    assert _times(conn, "events") == []


def test_a_later_clock_expires_more(conn: sqlite3.Connection) -> None:
    _add_events(conn, [timedelta(days=80)])
    assert run_retention(conn, NOW).events == 0
    assert run_retention(conn, NOW + timedelta(days=11)).events == 1


@pytest.mark.parametrize(("events_days", "alerts_days"), [(0, 365), (90, 0), (-1, -1)])
def test_periods_under_a_day_are_refused(
    conn: sqlite3.Connection, events_days: int, alerts_days: int
) -> None:
    with pytest.raises(ValueError, match="at least one day"):
        run_retention(conn, NOW, events_days, alerts_days)
