"""Typed reads and writes of the `settings` table: small named values the agent must keep.

The table is plain key -> text.  Values are few and read rarely (the parent PIN hash, the
failed-login count), so each helper takes the caller's connection and the caller decides the
transaction: a read-check-write sequence (count a wrong PIN, then lock) runs inside one
`transaction()` so two threads cannot both read the old count.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime

from abhaya.agent.store import driver
from abhaya.client import contract


class SettingError(ValueError):
    """A stored setting does not have the type its reader expects (damage or a bug)."""


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT (the store's transaction), for read-check-write sequences."""
    with driver.transaction(conn):
        yield


def get_text(conn: sqlite3.Connection, key: str) -> str | None:
    """The stored text of `key`, or None when it was never set."""
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def get_int(conn: sqlite3.Connection, key: str, default: int) -> int:
    """`key` as an integer, `default` when unset; SettingError when it is not an integer."""
    return parse_int(key, get_text(conn, key), default)


def get_time(conn: sqlite3.Connection, key: str) -> datetime | None:
    """`key` as an aware datetime (stored as ISO 8601), None when unset."""
    return parse_time(key, get_text(conn, key))


def put(conn: sqlite3.Connection, values: Mapping[str, str | int | datetime | None]) -> None:
    """Write `values` (None deletes the key) in the caller's transaction."""
    for key, value in values.items():
        if value is None:
            conn.execute("DELETE FROM settings WHERE key = ?", (key,))
            continue
        conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, to_text(key, value)),
        )


def parse_int(key: str, text: str | None, default: int) -> int:
    """Stored text as an integer (`default` for None); SettingError when it is not one.

    The parsers and `to_text` are shared with the sealed security settings (`security`), which
    keep values in the same text form.
    """
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise SettingError(f"setting {key!r} is not an integer: {text!r}") from None


def parse_time(key: str, text: str | None) -> datetime | None:
    """Stored ISO 8601 text as an aware datetime (None for None); SettingError otherwise."""
    if text is None:
        return None
    try:
        return contract.parse_time(text)
    except contract.TimeFormatError as error:
        raise SettingError(f"setting {key!r}: {error}") from None


def to_text(key: str, value: str | int | datetime) -> str:
    """The stored text of a value; times must be aware."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise SettingError(f"setting {key!r}: times must be timezone-aware")
        return value.isoformat()
    return str(value)
