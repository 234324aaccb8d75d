from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from abhaya.agent.store.db import open_connection
from abhaya.agent.store.keys import DatabaseKey, KeyMode
from abhaya.agent.store.migrations import (
    LATEST_VERSION,
    MIGRATIONS,
    Migration,
    MigrationError,
    migrate,
    schema_version,
)

KEY = DatabaseKey(bytes(range(32)), KeyMode.FILE)


def _schema(conn: sqlite3.Connection) -> set[tuple[str, str, str]]:
    rows = conn.execute(
        "SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'"
    ).fetchall()
    return {(str(kind), str(name), " ".join(str(sql).split())) for kind, name, sql in rows}


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    return open_connection(tmp_path / "events.db", KEY)


def test_migrations_are_numbered_from_one_without_gaps() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST_VERSION + 1))


def test_a_new_database_gets_every_migration(conn: sqlite3.Connection) -> None:
    assert schema_version(conn) == 0
    assert migrate(conn) == LATEST_VERSION
    tables = {name for kind, name, _ in _schema(conn) if kind == "table"}
    assert {"events", "alerts", "access_requests", "settings"} <= tables


@pytest.mark.parametrize("start", range(LATEST_VERSION))
def test_upgrading_from_every_earlier_version_matches_a_fresh_database(
    tmp_path: Path, start: int
) -> None:
    fresh = open_connection(tmp_path / "fresh.db", KEY)
    migrate(fresh)
    old = open_connection(tmp_path / "old.db", KEY)
    migrate(old, target=start)
    assert schema_version(old) == start
    if start >= 1:
        old.execute(
            "INSERT INTO events (time_us, kind, category, domain) "
            "VALUES (1800000001, 'verdict', 'adult', 'a.example')"
        )
        old.execute("INSERT INTO settings (key, value) VALUES ('retention.events_days', '30')")

    assert migrate(old) == LATEST_VERSION
    assert _schema(old) == _schema(fresh)
    if start >= 1:
        assert old.execute("SELECT domain FROM events").fetchall() == [("a.example",)]
        assert old.execute("SELECT value FROM settings").fetchall() == [("30",)]
        buckets = old.execute("SELECT bucket, category, count FROM category_buckets").fetchall()
        assert buckets == [(2, "adult", 1)]


def test_migrating_twice_changes_nothing(conn: sqlite3.Connection) -> None:
    migrate(conn)
    before = _schema(conn)
    assert migrate(conn) == LATEST_VERSION
    assert _schema(conn) == before


def test_a_newer_database_is_refused(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    with pytest.raises(MigrationError, match="newer than this Abhaya"):
        migrate(conn)


def test_a_failing_migration_leaves_the_previous_version_whole(conn: sqlite3.Connection) -> None:
    broken = (
        *MIGRATIONS,
        Migration(
            LATEST_VERSION + 1,
            "half good, half broken",
            ("CREATE TABLE extra (a)", "CREATE TABLE events (duplicate)"),
        ),
    )
    with pytest.raises(MigrationError, match=f"migration {LATEST_VERSION + 1}"):
        migrate(conn, migrations=broken, target=LATEST_VERSION + 1)
    assert schema_version(conn) == LATEST_VERSION
    assert "extra" not in {name for _, name, _ in _schema(conn)}
    assert not conn.in_transaction


def test_gaps_in_numbering_are_refused(conn: sqlite3.Connection) -> None:
    with pytest.raises(MigrationError, match="without gaps"):
        migrate(conn, migrations=(MIGRATIONS[0], MIGRATIONS[2]))
