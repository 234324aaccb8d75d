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

Nothing is lost silently:
- A batch that fails for a transient reason (busy, locked, disk full: the driver's
  OperationalError) is retried, then counted as failed and the count recorded later.
- A batch that fails for any other reason (an event the driver cannot bind, a constraint) is
  written again one event at a time in one transaction; the events that still cannot be stored
  are left out, counted, and the count is recorded in that same transaction.
- Any other error ends the loop, and the thread supervises itself: it counts the events of the
  batch it was writing as lost, opens a new connection, records the restart (a `fault` event),
  and goes on - at most `max_restarts` times within `restart_window` seconds.  When it cannot
  go on (the cap is reached, or the store can no longer be opened) it calls `on_fatal` with a
  message, counts every queued event as failed, and `submit` refuses from then on.
`health()` shows all of this for the status call.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from abhaya.agent.clock import utc_now
from abhaya.agent.store import driver
from abhaya.agent.store.batches import AlertRule, commit_batch
from abhaya.agent.store.errors import StoreError
from abhaya.agent.store.events import Event, EventKind
from abhaya.agent.store.highwater import HighWaterMark
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
MAX_RESTARTS = 5
RESTART_WINDOW_S = 300.0


@dataclass(frozen=True, slots=True)
class WriterHealth:
    """The writer's state for `abhaya status`: is it running, and what has been lost."""

    alive: bool
    """The thread runs and has not given up."""
    restarts: int
    """Times the thread recovered from an unexpected error."""
    dropped: int
    """Events refused because the queue was full."""
    failed: int
    """Events lost otherwise: a batch that could not commit, an event that cannot be stored,
    a batch being written when the thread failed, events queued when it gave up."""
    last_error: str | None
    """The last unexpected error or write failure, for the status line."""


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
    example `Store.connect`, and again after an unexpected error.  `retention=None` turns the
    scheduled retention off (tests, benchmarks).  `on_commit(last_id)` runs on the writer
    thread after each commit; it must be quick and must not raise.  `high_water` (the store's
    `Store.high_water`) is told of every commit, so a later open notices committed events that
    went missing.  `alert_for(id, event)` names the alert a stored event raises (stored in the
    same transaction; see `batches.commit_batch`).

    `on_fatal(message)` is called once, on the writer thread, when the writer gives up (too
    many restarts, or the store cannot be opened again): events can no longer be stored, so
    the agent should stop loudly - log `message` and shut down with a non-zero status.  It must
    not call `close()` or `flush()` itself (they wait for this thread); schedule the shutdown
    instead, for example with `loop.call_soon_threadsafe(agent.shutdown)`.
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
        on_fatal: Callable[[str], None] | None = None,
        high_water: HighWaterMark | None = None,
        max_restarts: int = MAX_RESTARTS,
        restart_window: float = RESTART_WINDOW_S,
        alert_for: AlertRule | None = None,
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
        self._on_fatal = on_fatal
        self._high_water = high_water
        self._max_restarts = max_restarts
        self._restart_window = restart_window
        self._alert_for = alert_for
        self._lock = threading.Lock()
        self._dropped_pending = 0  # queue full, not yet recorded
        self._failed_pending = 0  # batch could not commit, not yet recorded
        self._dropped_total = 0
        self._failed_total = 0
        self._last_committed_id = 0
        self._restarts = 0
        self._last_error: str | None = None
        self._fatal: str | None = None
        self._notes: list[Event] = []  # restarts not yet recorded (writer thread only)
        self._in_flight: list[Event] = []  # the batch being written (writer thread only)
        self._waiting: list[_Flush] = []  # flush markers of that batch (writer thread only)
        self._stop_seen = False  # a _Stop was taken from the queue (writer thread only)
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
        """Queue an event without ever blocking; False (and counted) when the queue is full, or
        when the writer gave up (see `on_fatal`)."""
        if self._closing.is_set():
            return False
        if self._fatal is not None:
            with self._lock:
                self._failed_total += 1
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
            return self._fatal is None and self._queue.empty()
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

    def health(self) -> WriterHealth:
        """A snapshot for the status call."""
        with self._lock:
            return WriterHealth(
                alive=self._thread.is_alive() and self._fatal is None,
                restarts=self._restarts,
                dropped=self._dropped_total,
                failed=self._failed_total,
                last_error=self._fatal or self._last_error,
            )

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
        failures: deque[float] = deque()
        while True:
            try:
                self._loop(conn)
            except Exception as error:  # noqa: BLE001 - the supervisor: anything unexpected
                log.exception("the event writer failed")
                conn.close()
                reopened = self._recover(error, failures)
                if reopened is None:
                    return
                conn = reopened
                continue
            conn.close()
            if self._high_water is not None:
                self._high_water.flush()
            return

    def _recover(self, error: Exception, failures: deque[float]) -> sqlite3.Connection | None:
        """After an unexpected error: count the batch it took, reopen and note the restart, or
        give up (None) when restarting is capped, the store cannot be opened, or it was
        stopping anyway."""
        lost, self._in_flight = len(self._in_flight), []
        for marker in self._waiting:  # flush() sees the loss in failed_total and says False
            marker.done.set()
        self._waiting = []
        what = f"{type(error).__name__}: {error}"
        with self._lock:
            self._failed_total += lost
            self._last_error = what
        if self._stop_seen:
            self._give_up(f"the event writer failed while stopping ({what}); {lost} events lost")
            return None
        now = time.monotonic()
        failures.append(now)
        while failures and now - failures[0] > self._restart_window:
            failures.popleft()
        if len(failures) > self._max_restarts:
            self._give_up(
                f"the event writer failed {len(failures)} times within "
                f"{self._restart_window:g} s and was not restarted again; last error: {what}"
            )
            return None
        try:
            conn = self._connect()
        except Exception as reopen_error:  # noqa: BLE001 - any failure to reopen is fatal
            self._give_up(
                f"the event writer failed ({what}) and the store cannot be opened again "
                f"({type(reopen_error).__name__}: {reopen_error})"
            )
            return None
        with self._lock:
            self._restarts += 1
            count = self._restarts
        detail = f"The event writer failed ({what}) and was restarted (restart {count})"
        if lost:
            detail += f"; {lost} events it was writing were lost"
        self._notes.append(Event(time=self._now(), kind=EventKind.FAULT, detail=detail))
        return conn

    def _give_up(self, message: str) -> None:
        """Refuse new events, count the queued ones as failed, release waiters, tell the agent."""
        log.critical("%s", message)
        with self._lock:
            self._fatal = message
        queued = 0
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, Event):
                queued += 1
            elif isinstance(item, _Flush):
                item.done.set()
        with self._lock:
            self._failed_total += queued
        if self._high_water is not None:
            self._high_water.flush()
        if self._on_fatal is not None:
            try:
                self._on_fatal(message)
            except Exception:  # noqa: BLE001 - the callback's failure must not hide the cause
                log.exception("on_fatal raised")

    def _loop(self, conn: sqlite3.Connection) -> None:
        if self._notes:  # a restart is recorded at once, not with whatever comes next
            self._write(conn, [])
        next_retention = time.monotonic()
        while True:
            if self._retention is not None and time.monotonic() >= next_retention:
                more = self._retain(conn, self._retention)
                # A backlog is deleted one chunk per pass, between batches, so a first run after
                # months offline never stops the queue from draining.
                next_retention = time.monotonic() + (0.0 if more else self._retention_interval)
            waits = [] if self._retention is None else [next_retention - time.monotonic()]
            if self._high_water is not None and (due := self._high_water.due_in()) is not None:
                waits.append(due)
            try:
                first = self._queue.get(timeout=max(0.0, min(waits)) if waits else None)
            except queue.Empty:
                if self._high_water is not None and self._high_water.due_in() == 0.0:
                    self._high_water.flush()
                continue
            events, flushes, stop = self._gather(first)
            self._stop_seen = stop
            self._in_flight, self._waiting = events, flushes
            self._write(conn, events)
            self._in_flight, self._waiting = [], []
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
        """Commit `events` plus records of drops and restarts; retry transient errors.

        After WRITE_ATTEMPTS failures the batch is counted as failed (and that count is
        recorded once the database works again) rather than blocking the queue forever.
        """
        # The counts and notes are only taken off once they are committed: a batch that fails,
        # or dies with the loop, leaves them to be recorded by the next one.
        with self._lock:
            dropped, failed = self._dropped_pending, self._failed_pending
        notes = list(self._notes)
        batch = [*events, *notes]
        for count, why in ((dropped, "the event queue was full"), (failed, WRITE_FAILED)):
            if count:
                detail = f"{count} events were dropped because {why}"
                batch.append(Event(time=self._now(), kind=EventKind.DROPPED_EVENTS, detail=detail))
        if not batch:
            return
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                last_id = self._commit(conn, batch)
            except driver.OperationalError as error:
                log.warning(
                    "event batch not stored (attempt %d/%d): %s", attempt, WRITE_ATTEMPTS, error
                )
                with self._lock:
                    self._last_error = f"{type(error).__name__}: {error}"
                self._closing.wait(RETRY_BACKOFF_S * attempt)
                continue
            self._in_flight = []
            del self._notes[: len(notes)]
            with self._lock:
                self._dropped_pending -= dropped
                self._failed_pending -= failed
                if last_id:
                    self._last_committed_id = last_id
            if last_id:
                if self._high_water is not None:
                    self._high_water.committed(last_id)
                if self._on_commit is not None:
                    self._on_commit(last_id)
            return
        self._in_flight = []  # counted here, not again if the loop fails later
        with self._lock:
            self._failed_pending += len(events)
            self._failed_total += len(events)

    def _commit(self, conn: sqlite3.Connection, batch: list[Event]) -> int:
        """`batches.commit_batch`, with what it left out counted; the last stored id."""
        committed = commit_batch(conn, batch, self._now(), self._alert_for)
        if committed.left_out:
            with self._lock:
                self._failed_total += committed.left_out
                self._last_error = committed.first_error
        return committed.last_id

    @property
    def retention(self) -> RetentionPolicy | None:
        return self._retention

    def set_retention(self, retention: RetentionPolicy) -> None:
        """Keep events and alerts for these days from the next clean-up on (within
        `retention_interval`): a parent who shortens retention in a new policy need not wait
        for the agent's next start.  One attribute, read by the writer thread at each run."""
        self._retention = retention

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
