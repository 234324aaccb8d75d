"""Bounded history: events older than N days (90 by default) and alerts older than a year go.

Deletion runs in chunks, each its own short transaction, so a first run after months offline
(hundreds of thousands of rows) never holds the write lock long enough to stall the writer's
batches.  secure_delete (set on every connection) overwrites the freed space.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from abhaya.agent.store.driver import transaction
from abhaya.agent.store.events import to_us

DEFAULT_EVENTS_DAYS = 90
DEFAULT_ALERTS_DAYS = 365
CHUNK_ROWS = 5000


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long rows are kept; comes from the policy file's retention settings."""

    events_days: int = DEFAULT_EVENTS_DAYS
    alerts_days: int = DEFAULT_ALERTS_DAYS

    def __post_init__(self) -> None:
        if self.events_days < 1 or self.alerts_days < 1:
            raise ValueError("retention periods must be at least one day")


DEFAULT_RETENTION = RetentionPolicy()


@dataclass(frozen=True, slots=True)
class RetentionCounts:
    """Rows deleted by one run."""

    events: int
    alerts: int


def run_retention(
    conn: sqlite3.Connection,
    now: datetime,
    events_days: int = DEFAULT_EVENTS_DAYS,
    alerts_days: int = DEFAULT_ALERTS_DAYS,
    *,
    max_rows: int | None = None,
) -> RetentionCounts:
    """Delete events older than `events_days` and alerts older than `alerts_days` before `now`.

    `conn` must be in autocommit mode; each chunk of CHUNK_ROWS commits on its own.  With
    `max_rows`, at most that many rows per table go in this call (rounded up to whole chunks):
    the writer passes one chunk and comes back for more between its batches.
    """
    RetentionPolicy(events_days, alerts_days)  # validates
    events = _delete_before(conn, "events", to_us(now - timedelta(days=events_days)), max_rows)
    alerts = _delete_before(conn, "alerts", to_us(now - timedelta(days=alerts_days)), max_rows)
    return RetentionCounts(events=events, alerts=alerts)


def _delete_before(
    conn: sqlite3.Connection, table: str, cutoff_us: int, max_rows: int | None
) -> int:
    # `table` is one of two literals above, never user input.
    statement = (
        f"DELETE FROM {table} WHERE id IN "
        f"(SELECT id FROM {table} WHERE time_us < ? ORDER BY time_us LIMIT {CHUNK_ROWS:d})"
    )
    total = 0
    while max_rows is None or total < max_rows:
        with transaction(conn):
            deleted = conn.execute(statement, (cutoff_us,)).rowcount
        total += deleted
        if deleted < CHUNK_ROWS:
            break
    return total
