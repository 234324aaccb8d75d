"""Opening the encrypted event database, and replacing it when it is damaged.

SQLCipher 4 encrypts every page (AES-256, HMAC-SHA512 per page), the WAL included, so nothing a
child browsed is readable from the files without the key.  Per connection the store turns on:
WAL (readers never block the writer), synchronous=FULL (a committed batch survives power loss,
not only a killed process), secure_delete (retention really erases), temp_store=MEMORY (no
plaintext temp files), foreign keys and a busy timeout.

A database that cannot be decrypted or fails `quick_check` / `cipher_integrity_check` is moved
aside with its -wal/-shm under a timestamped name - never deleted: it is evidence, and it may
hold history a parent wants back - and a fresh one is started with a tamper event and alert that
say so.  Only one replacement is attempted per open, so a start never loops.  Busy or locked
databases (another agent running) and unreadable files are *not* treated as damage: they raise
StoreError and the file is left where it is.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from abhaya.agent.clock import utc_now
from abhaya.agent.store import driver
from abhaya.agent.store.alerts import Alert, AlertSeverity, insert_alert
from abhaya.agent.store.errors import StoreError
from abhaya.agent.store.events import Event, EventKind, insert_events
from abhaya.agent.store.highwater import MARK_FILE_NAME, HighWaterMark, check_at_open
from abhaya.agent.store.keys import DatabaseKey, KeyMissingError, KeyMode, load_or_create_key
from abhaya.agent.store.migrations import migrate
from abhaya.agent.store.sealed import FILE_MODE, FOLDER_MODE
from abhaya.agent.store.security import SecuritySettings, settle_at_open

log = logging.getLogger(__name__)

DB_FILE_NAME = "events.db"
SIDE_FILE_SUFFIXES = ("-wal", "-shm", "-journal")
BUSY_TIMEOUT_S = 5.0
CACHE_KIB = 32 * 1024
# SQLite primary result codes that mean "these bytes are not a healthy database for this key".
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26
_DAMAGE_CODES = frozenset({_SQLITE_CORRUPT, _SQLITE_NOTADB})


@dataclass(frozen=True, slots=True)
class Recovery:
    """Why the previous database was replaced at this open, and where it was moved."""

    reason: str
    moved_to: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class Store:
    """An opened, checked, migrated store.  Each thread makes its own connection.

    `security` holds the parent PIN and the pause end, apart from the database (see
    `security`); `high_water` is the mark of committed events that the EventWriter keeps
    (pass it as `EventWriter(store.connect, high_water=store.high_water)`).
    `security_problem` says why the security settings were refused at open (None if not).
    """

    path: Path
    key: DatabaseKey = field(repr=False)
    security: SecuritySettings = field(repr=False, compare=False)
    high_water: HighWaterMark = field(repr=False, compare=False)
    recovery: Recovery | None = None
    security_problem: str | None = None

    @property
    def key_mode(self) -> KeyMode:
        return self.key.mode

    def connect(self, *, read_only: bool = False) -> sqlite3.Connection:
        """A new keyed connection in autocommit mode (use explicit BEGIN ... COMMIT).

        `read_only` suits callers that only read (event pages, stats): a bug there cannot
        write.  The EventWriter must get a writable one.
        """
        return open_connection(self.path, self.key, read_only=read_only)


def open_connection(path: Path, key: DatabaseKey, *, read_only: bool = False) -> sqlite3.Connection:
    """Open and key `path`, proving the key by reading the schema, and set the pragmas.

    Raises the driver's DatabaseError for a wrong key or a file that is not a database.
    A read-only connection leaves the journal mode as the file has it.  A new database file
    is created 0600 first: SQLite gives its -wal and -shm files the database's mode.
    """
    if not read_only:
        create_private(path)
    conn = driver.raw_connect(path, timeout=BUSY_TIMEOUT_S, read_only=read_only)
    ready = False
    try:
        conn.execute(f'PRAGMA key = "{key.pragma_value()}"')
        conn.execute("PRAGMA cipher_compatibility = 4")
        conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
        mode = conn.execute("PRAGMA journal_mode" if read_only else "PRAGMA journal_mode = WAL")
        mode = mode.fetchone()[0]
        if not read_only and str(mode).lower() != "wal":
            raise StoreError(f"{path}: could not switch to WAL mode (got {mode})")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB:d}")
        ready = True
    finally:
        if not ready:
            conn.close()
    return conn


def open_store(data_dir: Path, *, now: Callable[[], datetime] = utc_now) -> Store:
    """Find or make the key, open and check the database, migrate it, and return the Store.

    A damaged database (or one whose key is gone from the keyring) is moved aside once and
    replaced; the fresh database starts with a tamper event and a critical alert.  Raises
    StoreError when the store cannot be used at all (keyring unreachable while it holds the
    key, database locked, schema newer than this code, the replacement failing too).
    """
    data_dir.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    os.chmod(data_dir, FOLDER_MODE)
    path = data_dir / DB_FILE_NAME
    existed = path.exists()
    tighten_modes(path)
    try:
        key = load_or_create_key(data_dir, may_create=not existed)
    except KeyMissingError:
        return _replace(path, None, "the database key is no longer in the OS keyring", now())
    if existed and (reason := check_database(path, key)) is not None:
        return _replace(path, key, reason, now())
    _migrate(path, key)
    return _settle(path, key, None, now())


def _replace(path: Path, key: DatabaseKey | None, reason: str, moment: datetime) -> Store:
    """Move the database aside, start a fresh one (with a new key if the old one is gone),
    and record why.  Called at most once per open_store: nothing here calls back into it.

    The high-water mark counted the old database's events; it goes with it, so the fresh
    database is not reported as missing them (the replacement itself is the tamper event).
    """
    log.error("event database replaced: %s", reason)
    moved = quarantine(path, moment)
    path.with_name(MARK_FILE_NAME).unlink(missing_ok=True)
    if key is None:
        key = load_or_create_key(path.parent, may_create=True)
    recovery = Recovery(reason, moved)
    _migrate(path, key)
    _record_recovery(path, key, recovery, moment)
    return _settle(path, key, recovery, moment)


def _settle(path: Path, key: DatabaseKey, recovery: Recovery | None, moment: datetime) -> Store:
    """Check what lives outside the database: the security settings and the high-water mark
    (each records its own tamper event), then hand out the Store."""
    security = SecuritySettings(path.parent, key)
    high_water = HighWaterMark(path.with_name(MARK_FILE_NAME), key.raw)
    try:
        conn = open_connection(path, key)
        try:
            problem = settle_at_open(conn, security, moment)
            check_at_open(conn, high_water, moment)
        finally:
            conn.close()
    except (driver.Error, OSError) as error:
        raise StoreError(f"{path}: cannot be written at open: {error}") from error
    return Store(path, key, security, high_water, recovery, problem)


def create_private(path: Path) -> None:
    """Create `path` empty with mode 0600 unless it exists (SQLite then fills it)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)


def tighten_modes(path: Path) -> None:
    """Set the database and its side files to 0600 (stores made by older versions were 0644)."""
    for suffix in ("", *SIDE_FILE_SUFFIXES):
        side = path.with_name(path.name + suffix)
        try:
            os.chmod(side, FILE_MODE)
        except FileNotFoundError:
            continue


def check_database(path: Path, key: DatabaseKey) -> str | None:
    """None when `path` decrypts with `key` and passes both integrity checks, else the reason.

    Errors that are not damage (busy, locked, permission) raise StoreError instead, so a
    healthy database that another process holds is never moved aside.  The check connection
    is read-only so that closing it cannot checkpoint or delete a WAL that is evidence.
    """
    try:
        conn = open_connection(path, key, read_only=True)
    except driver.DatabaseError as error:
        return _damage_or_raise(path, "cannot be opened with its key", error)
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
        if rows != [("ok",)]:
            return f"quick_check failed: {'; '.join(str(row[0]) for row in rows[:3])}"
        bad_pages = conn.execute("PRAGMA cipher_integrity_check").fetchall()
        if bad_pages:
            return f"cipher_integrity_check failed: {'; '.join(str(r[0]) for r in bad_pages[:3])}"
    except driver.DatabaseError as error:
        return _damage_or_raise(path, "failed its integrity check", error)
    finally:
        conn.close()
    return None


def _damage_or_raise(path: Path, what: str, error: Exception) -> str:
    code = int(getattr(error, "sqlite_errorcode", 0)) & 0xFF
    if code in _DAMAGE_CODES:
        return f"{path.name} {what}: {error}"
    raise StoreError(f"{path}: {error}") from error


def quarantine(path: Path, moment: datetime) -> tuple[Path, ...]:
    """Rename the database and its side files to `<name>.damaged-<UTC time>[-wal|-shm]`.

    Renames (same folder, so atomic) rather than copies, and never overwrites: a second damage
    within the same microsecond gets a counter.
    """
    stamp = moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    base = path.with_name(f"{path.name}.damaged-{stamp}")
    counter = 1
    while any(base.with_name(base.name + s).exists() for s in ("", *SIDE_FILE_SUFFIXES)):
        base = path.with_name(f"{path.name}.damaged-{stamp}-{counter}")
        counter += 1
    moved: list[Path] = []
    for suffix in ("", *SIDE_FILE_SUFFIXES):
        source = path.with_name(path.name + suffix)
        if source.exists():
            target = base.with_name(base.name + suffix)
            source.rename(target)
            moved.append(target)
    return tuple(moved)


def _migrate(path: Path, key: DatabaseKey) -> None:
    try:
        conn = open_connection(path, key)
    except driver.Error as error:
        raise StoreError(f"{path}: cannot open a fresh database: {error}") from error
    try:
        migrate(conn)
    finally:
        conn.close()


def _record_recovery(path: Path, key: DatabaseKey, recovery: Recovery, moment: datetime) -> None:
    names = ", ".join(moved.name for moved in recovery.moved_to) or "nothing to move"
    message = f"The event history could not be read and was set aside ({names}): {recovery.reason}"
    try:
        conn = open_connection(path, key)
        try:
            with driver.transaction(conn):
                insert_events(conn, [Event(time=moment, kind=EventKind.TAMPER, detail=message)])
                insert_alert(conn, Alert(moment, "store_replaced", AlertSeverity.CRITICAL, message))
        finally:
            conn.close()
    except driver.Error as error:
        raise StoreError(f"{path}: the fresh database cannot be written: {error}") from error
