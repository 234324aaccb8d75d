"""One batch, one transaction; an event the database refuses never takes its batch down."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest

from abhaya.agent.store import EventWriter, Store, driver
from abhaya.agent.store.batches import commit_batch
from tests.agent.store.conftest import make_event

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
POISON_TRIGGER = (
    "CREATE TRIGGER refuse_poison BEFORE INSERT ON events WHEN NEW.detail = 'poison' "
    "BEGIN SELECT RAISE(ABORT, 'poisoned row'); END"
)


def _poisoned(store: Store) -> None:
    with contextlib.closing(store.connect()) as conn:
        conn.execute(POISON_TRIGGER)


def _rows(store: Store) -> list[tuple[str, str]]:
    with contextlib.closing(store.connect(read_only=True)) as conn:
        return [
            (str(k), str(d)) for k, d in conn.execute("SELECT kind, detail FROM events ORDER BY id")
        ]


def test_a_healthy_batch_is_one_transaction(store: Store) -> None:
    with contextlib.closing(store.connect()) as conn:
        committed = commit_batch(conn, [make_event(detail="a"), make_event(detail="b")], NOW)
    assert (committed.left_out, committed.first_error) == (0, "")
    assert committed.last_id == 2
    assert _rows(store) == [("verdict", "a"), ("verdict", "b")]


def test_a_refused_event_is_left_out_and_the_gap_recorded(store: Store) -> None:
    _poisoned(store)
    with contextlib.closing(store.connect()) as conn:
        batch = [make_event(detail=d) for d in ("one", "poison", "two")]
        committed = commit_batch(conn, batch, NOW)
    assert committed.left_out == 1 and "poisoned row" in committed.first_error
    rows = _rows(store)
    assert rows[:2] == [("verdict", "one"), ("verdict", "two")]
    assert rows[2][0] == "dropped_events" and rows[2][1].startswith("1 events could not be stored")
    assert committed.last_id == len(rows)  # the record of the gap is the last row


def test_transient_trouble_reaches_the_caller(store: Store) -> None:
    """A busy database is for the writer to retry, never a reason to leave events out."""
    with (
        contextlib.closing(store.connect()) as holder,
        contextlib.closing(store.connect()) as conn,
    ):
        holder.execute("BEGIN IMMEDIATE")
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            with pytest.raises(driver.OperationalError):
                commit_batch(conn, [make_event(detail="a")], NOW)
        finally:
            holder.execute("ROLLBACK")
    assert _rows(store) == []


def test_an_event_the_database_refuses_does_not_take_its_batch_down(store: Store) -> None:
    """A real constraint (a trigger) refuses one event: the rest of its batch is stored, the
    refused one is counted, and the count is itself an event."""
    with contextlib.closing(store.connect()) as conn:
        conn.execute(
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON events WHEN NEW.detail = 'poison' "
            "BEGIN SELECT RAISE(ABORT, 'poisoned row'); END"
        )
    writer = EventWriter(store.connect, retention=None, batch_window=1.0)
    for detail in ("one", "poison", "two"):
        writer.submit(make_event(detail=detail))
    writer.start()
    assert writer.flush() is False  # an event was lost, and flush says so
    writer.submit(make_event(detail="later"))
    assert writer.flush()
    writer.close()
    assert writer.health().failed == 1
    with contextlib.closing(store.connect(read_only=True)) as conn:
        rows = conn.execute("SELECT kind, detail FROM events ORDER BY id").fetchall()
    assert rows[:2] == [("verdict", "one"), ("verdict", "two")]
    assert rows[2][0] == "dropped_events"
    assert rows[2][1].startswith("1 events could not be stored and were left out")
    assert "poisoned row" in rows[2][1]
    assert rows[3] == ("verdict", "later")
