"""The writer thread: batching, overflow counting, flush/close, retention, and durability."""

from __future__ import annotations

import contextlib
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from abhaya.agent.store import (
    EventKind,
    EventWriter,
    RetentionPolicy,
    Store,
    StoreError,
    open_store,
)
from abhaya.agent.store.db import open_connection
from abhaya.agent.store.driver import OperationalError, transaction
from abhaya.agent.store.events import insert_events
from abhaya.agent.store.keys import DatabaseKey, KeyMode
from abhaya.agent.store.retention import CHUNK_ROWS
from tests.agent.store.conftest import T0, make_event

CHILD = Path(__file__).with_name("writer_child.py")
ROOT = Path(__file__).resolve().parents[3]
KILL_CYCLES = 50


def _count(store: Store, kind: EventKind | None = None) -> int:
    conn = store.connect()
    if kind is None:
        row = conn.execute("SELECT count(*) FROM events").fetchone()
    else:
        row = conn.execute("SELECT count(*) FROM events WHERE kind = ?", (str(kind),)).fetchone()
    conn.close()
    return int(row[0])


def test_events_queued_together_commit_in_batches(store: Store) -> None:
    commits: list[int] = []
    writer = EventWriter(store.connect, batch_size=10, retention=None, on_commit=commits.append)
    for n in range(25):
        assert writer.submit(make_event(detail=str(n)))
    writer.start()
    assert writer.flush()
    writer.close()
    assert commits == [10, 20, 25]
    assert writer.last_committed_id == 25
    conn = store.connect()
    details = [row[0] for row in conn.execute("SELECT detail FROM events ORDER BY id")]
    conn.close()
    assert details == [str(n) for n in range(25)]


def test_a_full_queue_drops_without_blocking_and_records_the_count(store: Store) -> None:
    writer = EventWriter(store.connect, queue_size=5, retention=None)
    results = [writer.submit(make_event()) for _ in range(8)]
    assert results == [True] * 5 + [False] * 3
    assert writer.dropped_total == 3
    writer.start()
    assert writer.flush()
    writer.close()
    assert _count(store, EventKind.VERDICT) == 5
    conn = store.connect()
    rows = conn.execute("SELECT detail FROM events WHERE kind = 'dropped_events'").fetchall()
    conn.close()
    assert rows == [("3 events were dropped because the event queue was full",)]


def test_flush_makes_everything_submitted_visible_to_other_connections(store: Store) -> None:
    with EventWriter(store.connect, retention=None) as writer:
        for _ in range(1234):
            writer.submit(make_event())
        assert writer.flush()
        assert _count(store) == 1234
        assert writer.last_committed_id == 1234


def test_close_drains_what_was_submitted_and_then_refuses_more(store: Store) -> None:
    writer = EventWriter(store.connect, retention=None, batch_window=10.0)
    writer.start()
    for _ in range(700):
        writer.submit(make_event())
    assert writer.close(timeout=5.0)
    assert _count(store) == 700
    assert writer.submit(make_event()) is False
    assert writer.flush() is True  # nothing left to wait for


def test_close_is_prompt_while_the_writer_waits_for_retention(store: Store) -> None:
    writer = EventWriter(store.connect, retention=RetentionPolicy(), retention_interval=3600)
    writer.start()
    assert writer.close(timeout=5.0)


def test_a_writer_that_was_never_started_closes(store: Store) -> None:
    assert EventWriter(store.connect).close()


def test_a_writer_that_cannot_open_the_store_says_so_at_start(store: Store) -> None:
    wrong = DatabaseKey(bytes(32), KeyMode.FILE)
    writer = EventWriter(lambda: open_connection(store.path, wrong))
    with pytest.raises(StoreError, match="cannot open the store"):
        writer.start()


def test_the_writer_runs_retention_when_it_starts(store: Store) -> None:
    writer = EventWriter(store.connect, retention=None)
    writer.start()
    writer.submit(make_event(time=T0 - timedelta(days=91)))
    writer.submit(make_event(time=T0 - timedelta(days=89)))
    writer.close()
    later = EventWriter(store.connect, retention=RetentionPolicy(events_days=90), now=lambda: T0)
    later.start()
    assert later.flush()
    later.close()
    conn = store.connect()
    times = [row[0] for row in conn.execute("SELECT time_us FROM events")]
    conn.close()
    assert len(times) == 1


def test_a_shorter_retention_applies_at_the_next_clean_up_without_a_restart(store: Store) -> None:
    writer = EventWriter(
        store.connect,
        retention=RetentionPolicy(events_days=90),
        retention_interval=0.2,
        now=lambda: T0,
    )
    writer.start()
    writer.submit(make_event(time=T0 - timedelta(days=30)))
    assert writer.flush()
    time.sleep(0.5)  # clean-ups ran under 90 days: the event stays
    assert _count(store) == 1
    writer.set_retention(RetentionPolicy(events_days=7))
    assert writer.retention == RetentionPolicy(events_days=7)
    deadline = time.monotonic() + 10
    while _count(store) and time.monotonic() < deadline:
        time.sleep(0.1)
    writer.close()
    assert _count(store) == 0


def test_every_event_reported_committed_survives_sigkill(tmp_path: Path) -> None:
    """Kill a writing process at random moments; every id it reported must be there after."""
    data_dir = tmp_path / "data"
    rng = random.Random(20261130)
    committed: set[int] = set()
    for cycle in range(KILL_CYCLES):
        with subprocess.Popen(
            [sys.executable, str(CHILD), str(data_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            text=True,
        ) as child:
            assert child.stdout is not None
            first = child.stdout.readline()
            if first == "ready\n":
                time.sleep(rng.uniform(0.0, 0.15))
            child.send_signal(signal.SIGKILL)
            output, errors = child.communicate()
        if first != "ready\n":
            pytest.fail(f"cycle {cycle}: the child said {first!r}: {errors[-2000:]}")
        lines = output.split("\n")[:-1]  # the text after the last newline may be cut off
        committed.update(int(line) for line in lines)

    assert len(committed) >= KILL_CYCLES  # the kills did land while events were being written
    store = open_store(data_dir)
    assert store.recovery is None
    conn = store.connect()
    present = {int(row[0]) for row in conn.execute("SELECT id FROM events")}
    assert committed <= present
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert conn.execute("PRAGMA cipher_integrity_check").fetchall() == []
    # ... and the high-water mark never ran ahead of what was durable: no false alarm
    assert conn.execute("SELECT count(*) FROM events WHERE kind = 'tamper'").fetchone() == (0,)
    conn.close()


def test_a_retention_backlog_is_deleted_between_batches(store: Store) -> None:
    conn = store.connect()
    with transaction(conn):
        insert_events(conn, [make_event(time=T0 - timedelta(days=200))] * (2 * CHUNK_ROWS + 1))
    conn.close()
    old_rows_at_commit: list[int] = []

    def count_old_rows(last_id: int) -> None:  # runs on the writer thread, after the commit
        reader = store.connect(read_only=True)
        old_rows_at_commit.append(
            reader.execute("SELECT count(*) FROM events WHERE detail != 'new'").fetchone()[0]
        )
        reader.close()

    writer = EventWriter(
        store.connect, retention=RetentionPolicy(), now=lambda: T0, on_commit=count_old_rows
    )
    writer.submit(make_event(time=T0, detail="new"))
    writer.start()
    assert writer.flush()
    assert writer.close()
    # One chunk went before the first batch; the batch did not wait for the rest.
    assert old_rows_at_commit == [CHUNK_ROWS + 1]
    assert _count(store) - 1 <= 1  # and the rest went in the passes that followed


def test_readers_can_open_read_only(store: Store) -> None:
    with EventWriter(store.connect, retention=None) as writer:
        writer.submit(make_event())
        assert writer.flush()
        reader = store.connect(read_only=True)
        assert reader.execute("SELECT count(*) FROM events").fetchone()[0] == 1
        with pytest.raises(OperationalError, match="readonly"):
            reader.execute("DELETE FROM events")
        reader.close()


def test_a_batch_that_cannot_commit_is_counted_and_flush_says_so(store: Store) -> None:
    def impatient() -> sqlite3.Connection:
        conn = store.connect()
        conn.execute("PRAGMA busy_timeout = 10")
        return conn

    blocker = store.connect()
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock throughout the retries
    writer = EventWriter(impatient, retention=None)
    writer.start()
    for _ in range(3):
        writer.submit(make_event())
    assert writer.flush() is False
    assert writer.failed_total == 3
    blocker.execute("ROLLBACK")
    blocker.close()

    writer.submit(make_event(detail="after"))
    assert writer.flush() is True
    writer.close()
    conn = store.connect()
    rows = conn.execute("SELECT kind, detail FROM events ORDER BY id").fetchall()
    conn.close()
    assert rows == [
        ("verdict", "after"),
        ("dropped_events", "3 events were dropped because the database could not be written"),
    ]


class FailingConnection:
    """A real store connection that raises an injected error on the next batch insert.

    The fault is one no real database produces on demand (an unexpected error in the middle of
    a write), so it is injected here, through the writer's `connect` argument.
    """

    def __init__(self, conn: sqlite3.Connection, faults: list[Exception]) -> None:
        self._conn = conn
        self._faults = faults

    def executemany(self, sql: str, rows: object) -> object:
        if self._faults:
            raise self._faults.pop(0)
        return self._conn.executemany(sql, rows)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> object:
        return getattr(self._conn, name)


def test_the_writer_restarts_after_an_unexpected_error_and_records_it(store: Store) -> None:
    faults: list[Exception] = []
    opened: list[int] = []

    def connect() -> sqlite3.Connection:
        opened.append(1)
        return FailingConnection(store.connect(), faults)  # type: ignore[return-value]

    with EventWriter(connect, retention=None, batch_window=1.0) as writer:
        writer.submit(make_event(detail="before"))
        assert writer.flush()
        faults.append(RuntimeError("injected failure"))
        writer.submit(make_event(detail="lost 1"))
        writer.submit(make_event(detail="lost 2"))
        assert writer.flush() is False  # the batch died with the loop, and flush says so
        assert writer.flush()
        with contextlib.closing(store.connect(read_only=True)) as conn:
            kinds = [row[0] for row in conn.execute("SELECT kind FROM events ORDER BY id")]
        assert kinds == ["verdict", "fault"]  # the restart is recorded at once
        writer.submit(make_event(detail="after"))
        assert writer.flush()
        health = writer.health()
    assert (health.alive, health.restarts, health.failed) == (True, 1, 2)
    assert health.last_error == "RuntimeError: injected failure"
    assert len(opened) == 2  # a fresh connection after the failure
    with contextlib.closing(store.connect(read_only=True)) as conn:
        rows = conn.execute("SELECT kind, detail FROM events ORDER BY id").fetchall()
    assert [row[0] for row in rows] == ["verdict", "fault", "verdict"]
    assert (rows[0][1], rows[2][1]) == ("before", "after")
    fault = rows[1][1]
    assert "RuntimeError: injected failure" in fault
    assert "restart 1" in fault and "2 events it was writing were lost" in fault


def test_a_writer_that_keeps_failing_gives_up_loudly(store: Store) -> None:
    fatal: list[str] = []
    gave_up = threading.Event()

    def on_fatal(message: str) -> None:
        fatal.append(message)
        gave_up.set()

    faults: list[Exception] = [RuntimeError(f"failure {n}") for n in range(100)]
    writer = EventWriter(
        lambda: FailingConnection(store.connect(), faults),  # type: ignore[arg-type,return-value]
        retention=None,
        on_fatal=on_fatal,
        max_restarts=3,
        restart_window=60.0,
    )
    writer.start()
    for n in range(4):
        writer.submit(make_event(detail=str(n)))
        writer.flush(timeout=2.0)
    assert gave_up.wait(5.0)
    assert len(fatal) == 1 and "failed 4 times within 60 s" in fatal[0]
    assert "failure 3" in fatal[0]
    assert writer.submit(make_event()) is False  # refused, and counted
    health = writer.health()
    assert not health.alive
    assert health.restarts == 3
    assert health.failed == 5
    assert writer.flush() is False
    assert writer.close()


def test_a_writer_whose_store_cannot_be_reopened_gives_up_loudly(store: Store) -> None:
    fatal: list[str] = []
    gave_up = threading.Event()
    faults: list[Exception] = [RuntimeError("injected failure")]
    opened: list[int] = []

    def connect() -> sqlite3.Connection:  # on the writer thread: the first works, no other
        if opened:
            raise StoreError("the store is gone")
        opened.append(1)
        return FailingConnection(store.connect(), faults)  # type: ignore[return-value]

    def on_fatal(message: str) -> None:
        fatal.append(message)
        gave_up.set()

    writer = EventWriter(connect, retention=None, on_fatal=on_fatal)
    writer.start()
    writer.submit(make_event())
    assert gave_up.wait(5.0)
    assert "cannot be opened again (StoreError: the store is gone)" in fatal[0]
    assert not writer.health().alive
