"""Opening the encrypted database: settings, privacy of the files, and damaged databases."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from abhaya.agent.store import EventKind, EventWriter, Store, driver, open_store
from abhaya.agent.store.alerts import AlertSeverity, list_alerts
from abhaya.agent.store.db import DB_FILE_NAME, open_connection
from abhaya.agent.store.driver import DatabaseError
from abhaya.agent.store.keys import KEY_FILE_NAME, DatabaseKey, KeyMode
from abhaya.agent.store.queries import EventFilter, events_page
from tests.agent.store.conftest import make_event

MARKERS = ("quokka-marker-domain.example", "/zanzibar-marker-path", "marker-rule-7q3x")


def _write(store: Store, count: int, **fields: str) -> None:
    with EventWriter(store.connect, retention=None) as writer:
        for _ in range(count):
            assert writer.submit(make_event(**fields))
        assert writer.flush()


def test_connections_use_wal_secure_delete_full_sync_and_sqlcipher_4(store: Store) -> None:
    conn = store.connect()
    pragmas = {
        name: conn.execute(f"PRAGMA {name}").fetchone()[0]
        for name in ("journal_mode", "secure_delete", "foreign_keys", "synchronous", "temp_store")
    }
    assert pragmas == {
        "journal_mode": "wal",
        "secure_delete": 1,
        "foreign_keys": 1,
        "synchronous": 2,
        "temp_store": 2,
    }
    assert str(conn.execute("PRAGMA cipher_version").fetchone()[0]).startswith("4.")
    conn.close()


def test_the_file_is_not_a_plain_sqlite_database(store: Store) -> None:
    _write(store, 10)
    assert not store.path.read_bytes().startswith(b"SQLite format 3")


def test_a_wrong_key_cannot_open_it(store: Store) -> None:
    wrong = DatabaseKey(bytes(32), KeyMode.FILE)
    with pytest.raises(DatabaseError, match="not a database"):
        open_connection(store.path, wrong)


def test_logged_urls_and_domains_never_appear_in_the_raw_files(store: Store) -> None:
    domain, path, rule = MARKERS
    with EventWriter(store.connect, retention=None) as writer:
        for n in range(300):
            url = f"https://{domain}{path}/{n}"
            writer.submit(make_event(domain=domain, url=url, rule=rule, detail=f"{domain} {n}"))
        assert writer.flush()
        files_while_open = {p.name: p.read_bytes() for p in store.path.parent.iterdir()}
    files_after_close = {p.name: p.read_bytes() for p in store.path.parent.iterdir()}

    assert f"{DB_FILE_NAME}-wal" in files_while_open  # the WAL was really looked at
    for raw in (*files_while_open.values(), *files_after_close.values()):
        for marker in MARKERS:
            assert marker.encode() not in raw
            assert marker.encode("utf-16-le") not in raw
    conn = store.connect()  # ... while the store itself has them
    page = events_page(conn, EventFilter(text="quokka-marker"), limit=5)
    assert [stored.event.rule for stored in page.events] == [rule] * 5
    conn.close()


def _flip(path: Path, offset: int, length: int = 32) -> None:
    data = bytearray(path.read_bytes())
    start = offset % len(data)
    for index in range(start, min(start + length, len(data))):
        data[index] ^= 0xA5
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "offset",
    [0, 20, 1000, 4096 + 100, 2 * 4096 + 2000, -100, -5000],
    ids=["salt", "page-1", "page-1-body", "page-2", "page-3", "last-page", "near-the-end"],
)
def test_a_damaged_database_is_set_aside_and_replaced_once(tmp_path: Path, offset: int) -> None:
    original_dir = tmp_path / "original"
    _write(open_store(original_dir), 2000, domain="d.example")
    copy_dir = tmp_path / "copy"
    copy_dir.mkdir()
    shutil.copy2(original_dir / KEY_FILE_NAME, copy_dir / KEY_FILE_NAME)
    shutil.copy2(original_dir / DB_FILE_NAME, copy_dir / DB_FILE_NAME)
    _flip(copy_dir / DB_FILE_NAME, offset)
    damaged_bytes = (copy_dir / DB_FILE_NAME).read_bytes()

    store = open_store(copy_dir)

    assert store.recovery is not None
    moved, *side_files = store.recovery.moved_to
    assert moved.name.startswith(f"{DB_FILE_NAME}.damaged-")
    assert {p.name.removeprefix(moved.name) for p in side_files} <= {"-wal", "-shm"}
    assert moved.read_bytes() == damaged_bytes  # kept, byte for byte
    conn = store.connect()
    (tamper,) = events_page(conn).events
    assert tamper.event.kind is EventKind.TAMPER
    assert moved.name in tamper.event.detail
    (alert,) = list_alerts(conn)
    assert alert.alert.severity is AlertSeverity.CRITICAL
    conn.close()
    _write(store, 5)  # the fresh store works

    again = open_store(copy_dir)  # ... and is not replaced again: no loop
    assert again.recovery is None
    assert set(copy_dir.glob(f"{DB_FILE_NAME}.damaged-*")) == set(store.recovery.moved_to)
    conn = again.connect()
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 6
    conn.close()


def test_a_file_that_is_not_a_database_at_all_is_set_aside(data_dir: Path) -> None:
    open_store(data_dir)
    (data_dir / DB_FILE_NAME).write_bytes(b"this is not a database" * 300)
    store = open_store(data_dir)
    assert store.recovery is not None
    assert "cannot be opened with its key" in store.recovery.reason


def test_the_wal_and_shm_files_move_aside_with_the_database(store: Store) -> None:
    writer = EventWriter(store.connect, retention=None)
    writer.start()
    writer.submit(make_event())
    assert writer.flush()
    names = {p.name for p in store.path.parent.iterdir()}
    assert {f"{DB_FILE_NAME}-wal", f"{DB_FILE_NAME}-shm"} <= names
    saved = {name: (store.path.parent / name).read_bytes() for name in names}
    writer.close()
    for name, data in saved.items():  # put back the state of a crashed agent, damaged
        (store.path.parent / name).write_bytes(data)
    _flip(store.path, 100)

    replaced = open_store(store.path.parent)

    assert replaced.recovery is not None
    suffixes = sorted(p.name.rpartition("-")[2] for p in replaced.recovery.moved_to)
    assert len(replaced.recovery.moved_to) == 3
    assert {"shm", "wal"} <= set(suffixes)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_every_file_and_folder_of_the_store_is_private(data_dir: Path) -> None:
    """0600/0700 whatever the umask, so widening the data dir later exposes nothing."""
    old_umask = os.umask(0o022)
    try:
        store = open_store(data_dir)
        with EventWriter(store.connect, retention=None, high_water=store.high_water) as writer:
            writer.submit(make_event())
            assert writer.flush()
            names = {p.name for p in data_dir.iterdir()}
            assert {DB_FILE_NAME, f"{DB_FILE_NAME}-wal", f"{DB_FILE_NAME}-shm"} <= names
            modes = {p.name: _mode(p) for p in data_dir.iterdir()}
        store.security.update({"protection.paused_until": None})
        modes[store.security.path.name] = _mode(store.security.path)
    finally:
        os.umask(old_umask)
    assert _mode(data_dir) == 0o700
    assert modes == dict.fromkeys(modes, 0o600), modes


def test_an_older_store_with_wider_modes_is_made_private(data_dir: Path) -> None:
    open_store(data_dir)
    os.chmod(data_dir, 0o755)
    os.chmod(data_dir / DB_FILE_NAME, 0o644)
    open_store(data_dir)
    assert _mode(data_dir) == 0o700
    assert _mode(data_dir / DB_FILE_NAME) == 0o600


def test_reads_in_a_snapshot_agree_while_the_writer_commits(store: Store) -> None:
    """Two queries read together (a chart's counts, a list of sites) see the same events even
    when the writer commits between them; the next snapshot sees the new ones."""

    def count(conn: sqlite3.Connection) -> int:
        return len(events_page(conn, EventFilter(), limit=100).events)

    _write(store, 2)
    with contextlib.closing(store.connect(read_only=True)) as conn:
        with driver.snapshot(conn):
            first = count(conn)
            _write(store, 3)  # committed by the writer's own connection
            assert count(conn) == first == 2
        assert not conn.in_transaction
        assert count(conn) == 5
