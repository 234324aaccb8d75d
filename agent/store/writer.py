"""The single writer thread: proxy threads hand events over and never wait on the disk.

`submit()` is a non-blocking put on a bounded queue.  When the queue is full the event is
dropped and counted; the writer records that count as a `dropped_events` event in its next
transaction, so a gap in the history is itself visible to the parent.

The writer takes up to `batch_size` events, or whatever arrives within `batch_window` seconds
of the first, and commits them in one transaction: with synchronous=FULL each commit is an
fsync, and batching is what makes tens of thousands of events per second possible.  An event
counts as stored once its transaction commits; `flush()` waits for exactly that, and
`on_commit` reports the last committed id after each commit.

Retention runs on this thread too (at start, then every `retention_interval` seconds), so only
one connection ever writes.  All waiting is on the queue or on a `threading.Event`, so `close()`
is prompt: it drains what was submitted before it, commits, and stops.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from abhaya.agent.store import driver
from abhaya.agent.store.db import utc_now
from abhaya.agent.store.errors import StoreError
from abhaya.agent.store.events import Event, EventKind, insert_events
from abhaya.agent.store.retention import (
    CHUNK_ROWS,
    DEFAULT_RETENTION,
    RetentionPolicy,
    run_retention,
)

log = logging.getLogger(__name__)

WRITE_ATTEMPTS = 3
RETRY_BACKOFF_S = 0.2
WRITE_FAILED = "the database could not be written"


@dataclass(frozen=True, slots=True, eq=False)
class _Flush:
    """Queue marker: set `done` once everything queued before it has committed."""

    done: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True, slots=True, eq=False)
class _Stop:
    """Queue marker: commit what came before, then end the thread."""


_Item = Event | _Flush | _Stop


class EventWriter:
    """Owns the store's only writing connection, on its own thread.

    `connect` is called on the writer thread (SQLite connections belong to one thread), for
    example `Store.connect`.  `retention=None` turns the scheduled retention off (tests,
    benchmarks).  `on_commit(last_id)` runs on the writer thread after each commit;
    it must be quick and must not raise.
    """

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        *,
        queue_size: int = 10_000,
        batch_size: int = 500,
        batch_window: float = 0.05,
        retention: RetentionPolicy | None = DEFAULT_RETENTION,
        retention_interval: float = 3600.0,
        now: Callable[[], datetime] = utc_now,
        on_commit: Callable[[int], None] | None = None,
    ) -> None:
        if queue_size < 1 or batch_size < 1:
            raise ValueError("queue_size and batch_size must be positive")
        self._connect = connect
        self._queue: queue.Queue[_Item] = queue.Queue(maxsize=queue_size)
        self._batch_size = batch_size
        self._batch_window = batch_window
        self._retention = retention
        self._retention_interval = retention_interval
        self._now = now
        self._on_commit = on_commit
        self._lock = threading.Lock()
        self._dropped_pending = 0  # queue full, not yet recorded
        self._failed_pending = 0  # batch could not commit, not yet recorded
        self._dropped_total = 0
        self._failed_total = 0
        self._last_committed_id = 0
        self._closing = threading.Event()
        self._ready = threading.Event()
        self._startup_error: Exception | None = None
        self._thread = threading.Thread(target=self._run, name="abhaya-event-writer", daemon=True)

    # -- any thread ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the thread and wait until its connection is open; StoreError if it cannot."""
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            raise StoreError(f"event writer cannot open the store: {self._startup_error}")

    def submit(self, event: Event) -> bool:
        """Queue an event without ever blocking; False (and counted) when the queue is full."""
        if self._closing.is_set():
            return False
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            with self._lock:
                self._dropped_pending += 1
                self._dropped_total += 1
            return False
        return True

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every event accepted before this call has committed.

        False on timeout, or when a batch could not be written meanwhile (its events were
        counted as dropped instead).
        """
        if not self._thread.is_alive():
            return self._queue.empty()
        deadline = time.monotonic() + timeout
        failed_before = self.failed_total
        marker = _Flush()
        try:
            self._queue.put(marker, timeout=timeout)
        except queue.Full:
            return False
        done = marker.done.wait(max(0.0, deadline - time.monotonic()))
        return done and self.failed_total == failed_before

    def close(self, timeout: float = 10.0) -> bool:
        """Commit everything submitted so far and stop the thread; True if it stopped in time."""
        self._closing.set()
        if not self._thread.is_alive():
            return True
        deadline = time.monotonic() + timeout
        try:
            self._queue.put(_Stop(), timeout=timeout)
        except queue.Full:
            return False
        self._thread.join(max(0.0, deadline - time.monotonic()))
        return not self._thread.is_alive()

    def __enter__(self) -> EventWriter:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def dropped_total(self) -> int:
        """Events dropped since start because the queue was full (for status)."""
        with self._lock:
            return self._dropped_total

    @property
    def failed_total(self) -> int:
        """Events lost because their batch failed to commit WRITE_ATTEMPTS times (for status)."""
        with self._lock:
            return self._failed_total

    @property
    def last_committed_id(self) -> int:
        """Id of the newest committed event (0 before the first commit)."""
        with self._lock:
            return self._last_committed_id

    # -- writer thread ------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            conn = self._connect()
        except (driver.Error, StoreError, OSError) as error:
            self._startup_error = error
            self._ready.set()
            return
        self._ready.set()
        try:
            self._loop(conn)
        finally:
            conn.close()

    def _loop(self, conn: sqlite3.Connection) -> None:
        next_retention = time.monotonic()
        while True:
            if self._retention is not None and time.monotonic() >= next_retention:
                more = self._retain(conn, self._retention)
                # A backlog is deleted one chunk per pass, between batches, so a first run after
                # months offline never stops the queue from draining.
                next_retention = time.monotonic() + (0.0 if more else self._retention_interval)
            wait = None
            if self._retention is not None:
                wait = max(0.0, next_retention - time.monotonic())
            try:
                first = self._queue.get(timeout=wait)
            except queue.Empty:
                continue
            events, flushes, stop = self._gather(first)
            self._write(conn, events)
            for marker in flushes:
                marker.done.set()
            if stop:
                return

    def _gather(self, first: _Item) -> tuple[list[Event], list[_Flush], bool]:
        """Collect one batch: until it is full, the window closes, or a marker arrives."""
        events: list[Event] = []
        flushes: list[_Flush] = []
        deadline = time.monotonic() + self._batch_window
        item: _Item = first
        while True:
            if isinstance(item, _Stop):
                return self._drain(events), flushes, True
            if isinstance(item, _Flush):
                flushes.append(item)
                return events, flushes, False
            events.append(item)
            if len(events) >= self._batch_size:
                return events, flushes, False
            remaining = deadline - time.monotonic()
            try:
                item = (
                    self._queue.get(timeout=remaining)
                    if remaining > 0
                    else self._queue.get_nowait()
                )
            except queue.Empty:
                return events, flushes, False

    def _drain(self, events: list[Event]) -> list[Event]:
        """At stop: take events that raced in with close() too (flush markers are released)."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return events
            if isinstance(item, Event):
                events.append(item)
            elif isinstance(item, _Flush):
                item.done.set()

    def _write(self, conn: sqlite3.Connection, events: list[Event]) -> None:
        """Commit `events` plus a dropped-events record if drops happened; retry transient errors.

        After WRITE_ATTEMPTS failures the batch is counted as dropped (and that count is
        recorded once the database works again) rather than blocking the queue forever.
        """
        with self._lock:
            dropped, self._dropped_pending = self._dropped_pending, 0
            failed, self._failed_pending = self._failed_pending, 0
        batch = list(events)
        for count, why in ((dropped, "the event queue was full"), (failed, WRITE_FAILED)):
            if count:
                detail = f"{count} events were dropped because {why}"
                batch.append(Event(time=self._now(), kind=EventKind.DROPPED_EVENTS, detail=detail))
        if not batch:
            return
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with driver.transaction(conn):
                    last_id = insert_events(conn, batch)
            except driver.Error as error:
                log.warning(
                    "event batch not stored (attempt %d/%d): %s", attempt, WRITE_ATTEMPTS, error
                )
                self._closing.wait(RETRY_BACKOFF_S * attempt)
                continue
            with self._lock:
                self._last_committed_id = last_id
            if self._on_commit is not None:
                self._on_commit(last_id)
            return
        with self._lock:
            self._dropped_pending += dropped
            self._failed_pending += failed + len(events)
            self._failed_total += len(events)

    def _retain(self, conn: sqlite3.Connection, policy: RetentionPolicy) -> bool:
        """One chunk of retention; True if more expired rows are probably waiting."""
        try:
            counts = run_retention(
                conn, self._now(), policy.events_days, policy.alerts_days, max_rows=CHUNK_ROWS
            )
        except driver.Error as error:
            log.warning("retention run failed, retrying at the next run: %s", error)
            return False
        if counts.events or counts.alerts:
            log.info("retention deleted %d events and %d alerts", counts.events, counts.alerts)
        return counts.events >= CHUNK_ROWS or counts.alerts >= CHUNK_ROWS
