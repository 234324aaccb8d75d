"""The one place that knows the database driver is `sqlcipher3`, not the standard `sqlite3`.

sqlcipher3 is a fork of the standard library's sqlite3 module built against SQLCipher, with the
same API but its own classes and no type information.  Everything else in the store types its
connections as `sqlite3.Connection` (identical methods) and catches the driver's exceptions
through the names below, because `sqlite3.Error` does not match the fork's errors.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast

from sqlcipher3 import dbapi2 as _sqlcipher  # type: ignore[import-untyped]

Error: type[Exception] = _sqlcipher.Error
"""Base of every error the driver raises."""
DatabaseError: type[Exception] = _sqlcipher.DatabaseError
"""Wrong key, not a database, corruption (SQLITE_NOTADB, SQLITE_CORRUPT) and most others."""
OperationalError: type[Exception] = _sqlcipher.OperationalError
"""Transient or environmental: locked, busy, disk full, I/O error."""


def raw_connect(path: Path, *, timeout: float, read_only: bool = False) -> sqlite3.Connection:
    """Open `path` in autocommit mode (explicit BEGIN/COMMIT everywhere); nothing keyed yet.

    `read_only` opens with `mode=ro`: such a connection never checkpoints or deletes the WAL
    when it closes, which matters when inspecting a database that may be damaged.
    check_same_thread stays on: each thread opens its own connection.
    """
    target = f"{path.resolve().as_uri()}?mode=ro" if read_only else str(path)
    connection = _sqlcipher.connect(target, timeout=timeout, isolation_level=None, uri=read_only)
    return cast(sqlite3.Connection, connection)


def cipher_version() -> str:
    """The SQLCipher library version, e.g. '4.19.0 community' (for status and bug reports)."""
    conn = raw_connect(Path(":memory:"), timeout=0)
    try:
        return str(conn.execute("PRAGMA cipher_version").fetchone()[0])
    finally:
        conn.close()


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT on an autocommit connection; ROLLBACK if anything fails.

    IMMEDIATE takes the write lock up front, so a busy database is met at BEGIN (where the busy
    timeout waits) rather than half-way through a batch.  Data counts as stored only once the
    COMMIT returns.
    """
    conn.execute("BEGIN IMMEDIATE")
    committed = False
    try:
        yield
        conn.execute("COMMIT")
        committed = True
    finally:
        if not committed and conn.in_transaction:
            conn.execute("ROLLBACK")


@contextmanager
def snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN ... COMMIT around reads on an autocommit connection, so that every query inside
    sees one committed state (in WAL mode, the one of its first read).  Without it each query
    sees the latest commit of its own moment, and two read together (a chart's counts and a
    list of sites) can disagree about an event the writer committed between them."""
    conn.execute("BEGIN")
    try:
        yield
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")
