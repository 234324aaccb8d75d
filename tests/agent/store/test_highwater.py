"""The high-water mark: committed events lost with the WAL are noticed, nothing else alarms.

The damage is done the way a crash and a child would do it: a real writer process is killed
with SIGKILL after its events were committed, then its WAL is removed, cut or has one byte
flipped, and the store is opened again.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from abhaya.agent.store import EventWriter, RetentionPolicy, Store, open_store
from abhaya.agent.store.alerts import AlertSeverity, list_alerts
from abhaya.agent.store.db import DB_FILE_NAME
from abhaya.agent.store.highwater import MARK_FILE_NAME, last_event_id
from tests.agent.store.conftest import T0, make_event

CHILD = Path(__file__).with_name("writer_child.py")
ROOT = Path(__file__).resolve().parents[3]
COUNT = 300


def _write_then_kill(data_dir: Path, count: int = COUNT) -> None:
    """Commit `count` events in a child process, wait for the mark, then SIGKILL it."""
    with subprocess.Popen(
        [sys.executable, str(CHILD), str(data_dir), str(count)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        text=True,
    ) as child:
        assert child.stdout is not None
        lines = []
        while (line := child.stdout.readline()) not in ("marked\n", ""):
            lines.append(line)
        child.send_signal(signal.SIGKILL)
        _, errors = child.communicate()
    assert line == "marked\n", errors[-2000:]
    assert lines[0] == "ready\n"
    assert int(lines[-1]) == count  # every event was reported committed before the kill


def _tamper(store: Store) -> tuple[list[str], list[AlertSeverity]]:
    with contextlib.closing(store.connect(read_only=True)) as conn:
        details = [
            str(row[0])
            for row in conn.execute("SELECT detail FROM events WHERE kind = ?", ("tamper",))
        ]
        alerts = [
            item.alert.severity for item in list_alerts(conn) if item.alert.kind == "events_lost"
        ]
    return details, alerts


def _count(store: Store) -> int:
    with contextlib.closing(store.connect(read_only=True)) as conn:
        return int(conn.execute("SELECT count(*) FROM events WHERE kind = 'verdict'").fetchone()[0])


def test_after_a_sigkill_the_store_reopens_without_a_false_alarm(data_dir: Path) -> None:
    _write_then_kill(data_dir)
    assert (data_dir / f"{DB_FILE_NAME}-wal").exists()  # the events are still in the WAL
    store = open_store(data_dir)
    assert _tamper(store) == ([], [])
    assert _count(store) == COUNT


def _remove(wal: Path) -> None:
    wal.unlink()


def _truncate(wal: Path) -> None:
    with wal.open("r+b") as handle:
        handle.truncate(wal.stat().st_size // 2)


def _flip_one_byte(wal: Path) -> None:
    data = bytearray(wal.read_bytes())
    data[len(data) // 3] ^= 0x01
    wal.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [_remove, _truncate, _flip_one_byte], ids=lambda f: f.__name__)
def test_events_lost_with_the_wal_raise_a_tamper_event_and_a_critical_alert(
    data_dir: Path, damage: object
) -> None:
    _write_then_kill(data_dir)
    damage(data_dir / f"{DB_FILE_NAME}-wal")  # type: ignore[operator]

    store = open_store(data_dir)

    assert store.recovery is None  # nothing looks damaged inside the database itself
    missing = COUNT - _count(store)
    assert missing > 0
    details, alerts = _tamper(store)
    assert details == [
        f"{missing} committed events are missing from the event history: it ends at event "
        f"{COUNT - missing} but events up to {COUNT} had been stored (the database or its "
        "write-ahead log was damaged, truncated or removed)."
    ]
    assert alerts == [AlertSeverity.CRITICAL]
    with contextlib.closing(store.connect(read_only=True)) as conn:
        assert last_event_id(conn) > COUNT  # lost ids are never given to new events
    assert _tamper(open_store(data_dir)) == (details, alerts)  # said once, not at every start


def test_a_clean_stop_and_retention_raise_nothing(store: Store) -> None:
    with EventWriter(store.connect, retention=None, high_water=store.high_water) as writer:
        for days in (200, 100, 1):
            writer.submit(make_event(time=T0 - timedelta(days=days)))
        # the newest are the oldest by time: retention deletes the highest ids
        writer.submit(make_event(time=T0 - timedelta(days=300)))
        assert writer.flush()
    assert store.high_water.read() == 4
    later = EventWriter(
        store.connect,
        retention=RetentionPolicy(events_days=90),
        now=lambda: T0,
        high_water=store.high_water,
    )
    later.start()
    assert later.flush()
    later.close()
    assert _count(store) == 1
    reopened = open_store(store.path.parent)
    assert _tamper(reopened) == ([], [])


def test_a_deleted_mark_is_noticed(store: Store) -> None:
    with EventWriter(store.connect, retention=None, high_water=store.high_water) as writer:
        writer.submit(make_event())
    (store.path.parent / MARK_FILE_NAME).unlink()
    details, alerts = _tamper(open_store(store.path.parent))
    assert len(details) == 1 and "was deleted" in details[0]
    assert alerts == [AlertSeverity.CRITICAL]


def test_a_forged_mark_is_noticed(store: Store) -> None:
    mark = store.path.parent / MARK_FILE_NAME
    mark.write_text(mark.read_text().replace('"last_id": 0', '"last_id": 5'))
    details, _ = _tamper(open_store(store.path.parent))
    assert len(details) == 1 and "damaged" in details[0] and "HMAC" in details[0]
