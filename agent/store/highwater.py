"""A tamper-evident high-water mark of committed events, kept outside the database.

A committed event lives in the WAL until a checkpoint copies it into the database file.  If the
WAL is deleted, truncated or has one byte flipped (its frames carry checksums, and SQLite
silently ignores every frame from the first bad one on), the database opens cleanly with fewer
events than were committed: nothing inside it can tell.  So the writer records the id of the
last committed event in a sealed file (`events.mark`, see `sealed`) after commits - at most
once per `interval` while events keep coming, within `interval` once they stop, and at close -
and `check_at_open` compares it with what the database has.

The comparison uses `sqlite_sequence`, not max(id): the events table is AUTOINCREMENT, so the
sequence remembers the largest id ever given even after retention deletes the newest rows, and
retention never looks like loss.  The mark is written after the COMMIT returned, so it is never
ahead of what is durable: a normal stop or a SIGKILL cannot raise a false alarm.  When a loss is
found, the sequence is moved up to the mark, so the lost ids are never reused for new events.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from abhaya.agent.store import settings as stored
from abhaya.agent.store.alerts import Alert, AlertSeverity, insert_alert
from abhaya.agent.store.events import Event, EventKind, insert_events
from abhaya.agent.store.sealed import SealError, derive_key, read_sealed, write_sealed

log = logging.getLogger(__name__)

MARK_FILE_NAME = "events.mark"
MARK_KEPT_SETTING = "store.high_water_mark"
"""Set in the database once a mark file exists, so a deleted mark file is noticed too."""
_LABEL = "events-high-water-mark/v1"


class HighWaterMark:
    """The sealed `events.mark` beside the database.  Used by one thread at a time."""

    def __init__(
        self,
        path: Path,
        raw_key: bytes,
        *,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self._key = derive_key(raw_key, _LABEL)
        self._interval = interval
        self._clock = clock
        self._written_at: float | None = None
        self._pending: int | None = None

    def read(self) -> int | None:
        """The last id recorded; None when there is no mark file; SealError when damaged."""
        values = read_sealed(self.path, self._key)
        if values is None:
            return None
        last_id = values.get("last_id")
        if not isinstance(last_id, int) or isinstance(last_id, bool) or last_id < 0:
            raise SealError(f"last_id is not a count: {last_id!r}")
        return last_id

    def write(self, last_id: int) -> None:
        """Record `last_id` now (atomically, fsynced)."""
        write_sealed(self.path, self._key, {"last_id": last_id})
        self._written_at = self._clock()
        self._pending = None

    def committed(self, last_id: int) -> None:
        """After a commit: record `last_id` unless the mark was written within `interval`.

        Never raises: a mark that cannot be written only weakens loss detection, and the
        events themselves are already committed; the failure is logged.
        """
        self._pending = last_id
        now = self._clock()
        if self._written_at is None or now - self._written_at >= self._interval:
            self.flush()

    def due_in(self) -> float | None:
        """Seconds until a recorded-but-unwritten id is due (None: nothing waits).  The writer
        waits on its queue no longer than this, so an idle writer writes the mark promptly."""
        if self._pending is None:
            return None
        if self._written_at is None:
            return 0.0
        return max(0.0, self._written_at + self._interval - self._clock())

    def flush(self) -> None:
        """Write a recorded-but-not-yet-written id (at close).  Never raises, like committed."""
        if self._pending is None:
            return
        try:
            self.write(self._pending)
        except OSError as error:
            log.error("cannot write the events high-water mark %s: %s", self.path, error)


@dataclass(frozen=True, slots=True)
class MarkCheck:
    """What `check_at_open` found: the problem (None when all is well) and events missing."""

    problem: str | None
    missing: int = 0


def last_event_id(conn: sqlite3.Connection) -> int:
    """The largest id the events table ever gave (AUTOINCREMENT's sqlite_sequence), 0 if none."""
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
    return 0 if row is None else int(row[0])


def check_at_open(conn: sqlite3.Connection, mark: HighWaterMark, moment: datetime) -> MarkCheck:
    """Compare the database with the mark; record a tamper event and a critical alert if the
    database has fewer events than were committed, or the mark itself was damaged or deleted.

    Runs in one transaction on a writable connection, before the writer starts; leaves the
    mark equal to the database's sequence.
    """
    with stored.transaction(conn):
        current = last_event_id(conn)
        kept = stored.get_text(conn, MARK_KEPT_SETTING) is not None
        result = _compare(mark, current, kept)
        if result.missing:
            _raise_sequence(conn, current + result.missing)
        if result.problem is not None:
            insert_events(conn, [Event(time=moment, kind=EventKind.TAMPER, detail=result.problem)])
            insert_alert(conn, Alert(moment, "events_lost", AlertSeverity.CRITICAL, result.problem))
        if not kept:
            stored.put(conn, {MARK_KEPT_SETTING: "1"})
        final = last_event_id(conn)
    mark.write(final)
    if result.problem is not None:
        log.error("%s", result.problem)
    return result


def _compare(mark: HighWaterMark, current: int, kept: bool) -> MarkCheck:
    try:
        recorded = mark.read()
    except SealError as error:
        return MarkCheck(
            f"The record of how many events were stored ({mark.path.name}) is "
            f"damaged: {error}. Events may have been removed."
        )
    if recorded is None:
        if kept:
            return MarkCheck(
                f"The record of how many events were stored ({mark.path.name}) "
                "was deleted. Events may have been removed."
            )
        return MarkCheck(None)
    if recorded > current:
        missing = recorded - current
        return MarkCheck(
            f"{missing} committed events are missing from the event history: it ends at event "
            f"{current} but events up to {recorded} had been stored (the database or its "
            "write-ahead log was damaged, truncated or removed).",
            missing,
        )
    return MarkCheck(None)


def _raise_sequence(conn: sqlite3.Connection, value: int) -> None:
    """Move AUTOINCREMENT's sequence up to `value`, so lost ids are never given again."""
    updated = conn.execute(
        "UPDATE sqlite_sequence SET seq = ? WHERE name = 'events'", (value,)
    ).rowcount
    if updated == 0:
        conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('events', ?)", (value,))
