"""The settings table's typed helpers on a real encrypted store."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta, timezone

import pytest

from abhaya.agent.store import Store
from abhaya.agent.store import settings as stored


def test_values_round_trip_and_none_deletes(store: Store) -> None:
    moment = datetime(2026, 11, 30, 10, 0, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    with contextlib.closing(store.connect()) as conn:
        with stored.transaction(conn):
            stored.put(conn, {"a.text": "hello", "a.count": 7, "a.time": moment})
        assert stored.get_text(conn, "a.text") == "hello"
        assert stored.get_int(conn, "a.count", 0) == 7
        assert stored.get_time(conn, "a.time") == moment
        with stored.transaction(conn):
            stored.put(conn, {"a.count": 8, "a.text": None})
        assert stored.get_int(conn, "a.count", 0) == 8
        assert stored.get_text(conn, "a.text") is None
        assert stored.get_int(conn, "missing", 3) == 3
        assert stored.get_time(conn, "missing") is None


def test_values_survive_reopening(store: Store) -> None:
    with contextlib.closing(store.connect()) as conn, stored.transaction(conn):
        stored.put(conn, {"kept": "yes"})
    with contextlib.closing(store.connect(read_only=True)) as conn:
        assert stored.get_text(conn, "kept") == "yes"


def test_a_failed_transaction_writes_nothing(store: Store) -> None:
    with contextlib.closing(store.connect()) as conn:
        with pytest.raises(RuntimeError), stored.transaction(conn):
            stored.put(conn, {"half": "done"})
            raise RuntimeError("stop")
        assert stored.get_text(conn, "half") is None


@pytest.mark.parametrize(
    ("text", "reader"),
    [("seven", "int"), ("yesterday", "time"), ("2026-11-30T10:00:00", "time")],
)
def test_wrongly_typed_values_are_errors_not_defaults(store: Store, text: str, reader: str) -> None:
    with contextlib.closing(store.connect()) as conn:
        with stored.transaction(conn):
            stored.put(conn, {"bad": text})
        with pytest.raises(stored.SettingError, match="bad"):
            if reader == "int":
                stored.get_int(conn, "bad", 0)
            else:
                stored.get_time(conn, "bad")


def test_naive_times_are_refused(store: Store) -> None:
    with contextlib.closing(store.connect()) as conn, pytest.raises(stored.SettingError):
        stored.put(conn, {"when": datetime(2026, 1, 1)})
