"""Security settings (the parent PIN, its lock-out, the pause end) kept apart from the events.

They used to live in the database's settings table, so a database that was damaged (one flipped
byte) and moved aside took the PIN with it, and the next caller set a new PIN without a
session.  Now they live in `security.json` in the data dir: sealed (HMAC keyed from the
database key, see `sealed`), written atomically, mode 0600.  A damaged database never touches
them.

Deleting or damaging that file must not open the door either.  So the fact "a PIN has been set"
is kept where deleting the data files does not erase it: next to the database key - a second
entry in the OS keyring, or, when the key is in a file, a marker file beside it (deleting that
folder deletes the key too, and with it the whole history: a fresh install).  When the file is
missing while the marker says a PIN was set, or the file fails its seal at all, the settings
are *refused*: no PIN can be set or checked, the control API stays locked, `open_store`
records a tamper event and a critical alert, and only an administrator can recover, with
`reset_pin` (the `abhaya reset-pin` command, run as the agent's user with access to the data
dir).  A forged marker can only refuse a new PIN, never grant one, so the marker needs no seal.

What the seal does not stop: putting back an older copy of the whole file (with an older PIN).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import keyring

from abhaya.agent.store import settings as stored
from abhaya.agent.store.alerts import Alert, AlertSeverity, insert_alert
from abhaya.agent.store.errors import StoreError
from abhaya.agent.store.events import Event, EventKind, insert_events
from abhaya.agent.store.keys import (
    KEYRING_FAILURES,
    KEYRING_SERVICE,
    DatabaseKey,
    KeyMode,
    keyring_username,
)
from abhaya.agent.store.sealed import (
    SealError,
    derive_key,
    read_sealed,
    write_private,
    write_sealed,
)

log = logging.getLogger(__name__)

SECURITY_FILE_NAME = "security.json"
PIN_MARKER_FILE_NAME = "store.pin-set"
PIN_HASH_KEY = "pin.hash"
"""The name of the PIN hash among the values; its presence is what "a PIN is set" means."""
MIGRATED_KEYS = ("pin.hash", "pin.failures", "pin.locked_until", "protection.paused_until")
"""Keys that older versions kept in the database's settings table; moved here at first open."""
RESET_HELP = (
    "an administrator must run `abhaya reset-pin` as the agent's user (it clears the PIN and "
    "its lock-out; set a new PIN right after)"
)
_LABEL = "security-settings/v1"

Value = str | int | datetime | None


class SecuritySettingsError(StoreError):
    """The security settings cannot be trusted; the message says why and how to reset."""


class SecuritySettings:
    """The sealed `security.json` of one data dir.  Thread-safe; re-read on every call, so a
    `reset_pin` by an administrator takes effect without a restart."""

    def __init__(self, data_dir: Path, key: DatabaseKey) -> None:
        self.path = data_dir / SECURITY_FILE_NAME
        self._seal_key = derive_key(key.raw, _LABEL)
        self._marker = PinMarker(data_dir, key.mode)
        self._lock = threading.Lock()

    def read(self) -> dict[str, str]:
        """All values; SecuritySettingsError when the file is damaged, or missing while a PIN
        was set (see the module docstring)."""
        with self._lock:
            return self._read()

    def problem(self) -> str | None:
        """Why the settings are refused, or None when they can be used."""
        try:
            self.read()
        except SecuritySettingsError as error:
            return str(error)
        return None

    def update(self, values: Mapping[str, Value]) -> dict[str, str]:
        """Change some values (None deletes one) and return them all; one read-modify-write
        under the lock, so two callers (the PIN, the pause switch) never lose each other's."""
        with self._lock:
            current = self._read()
            for name, value in values.items():
                if value is None:
                    current.pop(name, None)
                else:
                    current[name] = stored.to_text(name, value)
            if values.get(PIN_HASH_KEY) is not None:
                # The marker first: a crash between the two leaves "a PIN was set" and a file
                # without one, which refuses (safe), never the other way round.
                self._marker.set()
            write_sealed(self.path, self._seal_key, dict(current))
            return current

    def replace_all(self, values: Mapping[str, str]) -> None:
        """Write exactly `values`, trusting nothing on disk (migration and `reset_pin`)."""
        with self._lock:
            if PIN_HASH_KEY in values:
                self._marker.set()
            write_sealed(self.path, self._seal_key, dict(values))
            if PIN_HASH_KEY not in values:
                self._marker.clear()

    def exists(self) -> bool:
        return self.path.exists()

    def ensure_marker(self) -> None:
        """At open: put back a marker lost while the file still holds a PIN."""
        with self._lock:
            if PIN_HASH_KEY in self._read() and not self._marker.is_set():
                log.warning("the record that a parent PIN is set was missing; recording it again")
                try:
                    self._marker.set()
                except SecuritySettingsError as error:  # the PIN itself is intact: go on
                    log.error("%s", error)

    def _read(self) -> dict[str, str]:
        try:
            values = read_sealed(self.path, self._seal_key)
        except SealError as error:
            raise SecuritySettingsError(
                f"the security settings ({self.path.name}) are damaged: {error}; the parent "
                f"PIN cannot be checked or set until {RESET_HELP}"
            ) from None
        if values is None:
            if self._marker.is_set():
                raise SecuritySettingsError(
                    f"the security settings ({self.path.name}) are missing although a parent "
                    f"PIN was set; the PIN cannot be checked or set until {RESET_HELP}"
                )
            return {}
        if not all(isinstance(value, str) for value in values.values()):
            raise SecuritySettingsError(f"{self.path.name} holds a value that is not text")
        return {name: str(value) for name, value in values.items()}


class PinMarker:
    """ "A parent PIN has been set", kept next to the database key (keyring entry or file).

    A keyring that cannot be asked counts as "set": the marker is only consulted when the
    settings file is missing, and then refusing is the safe answer.
    """

    def __init__(self, data_dir: Path, mode: KeyMode) -> None:
        self._mode = mode
        self._file = data_dir / PIN_MARKER_FILE_NAME
        self._username = "pin-set:" + keyring_username(data_dir).partition(":")[2]

    def is_set(self) -> bool:
        if self._mode is KeyMode.FILE:
            return self._file.exists()
        try:
            return keyring.get_password(KEYRING_SERVICE, self._username) is not None
        except KEYRING_FAILURES as error:
            log.warning("cannot ask the OS keyring whether a PIN was set: %s", error)
            return True

    def set(self) -> None:
        """Record the marker; SecuritySettingsError if it cannot be (then no PIN is written)."""
        if self._mode is KeyMode.FILE:
            if not self._file.exists():
                write_private(self._file, b"a parent PIN is set; see abhaya reset-pin\n")
            return
        try:
            keyring.set_password(KEYRING_SERVICE, self._username, "a parent PIN is set")
        except KEYRING_FAILURES as error:
            raise SecuritySettingsError(
                f"cannot record in the OS keyring that a PIN is set ({type(error).__name__}); "
                "the PIN was not changed"
            ) from None

    def clear(self) -> None:
        if self._mode is KeyMode.FILE:
            self._file.unlink(missing_ok=True)
            return
        try:
            if keyring.get_password(KEYRING_SERVICE, self._username) is not None:
                keyring.delete_password(KEYRING_SERVICE, self._username)
        except KEYRING_FAILURES as error:
            raise SecuritySettingsError(
                f"cannot clear the PIN marker in the OS keyring ({type(error).__name__})"
            ) from None


def settle_at_open(
    conn: sqlite3.Connection, security: SecuritySettings, moment: datetime
) -> str | None:
    """At open: move a PIN kept by an older version from the settings table into the sealed
    file, then check the file; when it is refused, record a tamper event and a critical alert.

    Returns the problem (None when the settings can be used).  The rows are deleted only once
    the file exists, so a crash in between migrates again rather than losing the PIN.
    """
    with stored.transaction(conn):
        legacy = {
            name: text
            for name in MIGRATED_KEYS
            if (text := stored.get_text(conn, name)) is not None
        }
        if legacy:
            if not security.exists():
                security.replace_all(legacy)
                log.info("moved the parent PIN settings out of the event database")
            stored.put(conn, dict.fromkeys(legacy))
        problem = security.problem()
        if problem is None:
            security.ensure_marker()
        else:
            message = f"Security settings refused: {problem}"
            insert_events(conn, [Event(time=moment, kind=EventKind.TAMPER, detail=message)])
            insert_alert(conn, Alert(moment, "security_settings", AlertSeverity.CRITICAL, message))
    if problem is not None:
        log.error("%s", problem)
    return problem
