"""Noticing the time the agent was not running although it never shut down.

A killed agent (SIGKILL, the out-of-memory killer, a crash, a power cut) cannot record that it
stopped.  So while it runs it keeps one row up to date with "alive at T" (every few seconds:
one UPDATE of one row of `settings`, not an event per beat), and a clean shutdown adds
"stopped at T".  At the next start, an "alive at" with no "stopped at" means the last run ended
without shutting down: protection was off from that last beat until now, and the parent gets
an event and an alert saying so, in the same transaction that starts the new run's record.

The gap's start is the last beat, so it may be up to one interval too late; the report says
"about".  The rows live in the encrypted store, so the times cannot be edited to hide a gap
without the store's key.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from abhaya.agent.clock import utc_now
from abhaya.agent.store import Event, EventKind, driver
from abhaya.agent.store import settings as stored
from abhaya.agent.store.alerts import Alert, AlertSeverity, insert_alert
from abhaya.agent.store.events import insert_events

log = logging.getLogger(__name__)

ALIVE_KEY = "agent.alive_at"
STOPPED_KEY = "agent.stopped_at"
GAP_ALERT = "protection_gap"
GAP_ACTION = "gap"
BEAT_INTERVAL_S = 5.0


@dataclass(frozen=True, slots=True)
class Gap:
    """A time the agent was not running and did not say it would stop."""

    since: datetime
    """The last beat of the run that ended without shutting down."""
    until: datetime
    """The start of this run."""

    @property
    def message(self) -> str:
        seconds = max(0, round((self.until - self.since).total_seconds()))
        return (
            f"Protection was off from about {_shown(self.since)} to {_shown(self.until)} "
            f"({_duration(seconds)}): the agent stopped without shutting down (it was killed, "
            "it crashed, or the computer lost power)."
        )


def _shown(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min {seconds} s"


def begin_run(conn: sqlite3.Connection, now: datetime) -> Gap | None:
    """Start this run's record; the gap the last run left (recorded as an event and an alert
    in the same transaction), or None after a clean stop or on the first run."""
    with driver.transaction(conn):
        alive = stored.get_time(conn, ALIVE_KEY)
        stopped = stored.get_time(conn, STOPPED_KEY)
        gap = Gap(alive, now) if alive is not None and stopped is None else None
        if gap is not None:
            detail = json.dumps({"from": gap.since.isoformat(), "to": gap.until.isoformat()})
            insert_events(
                conn,
                [Event(now, EventKind.PROTECTION, action=GAP_ACTION, detail=gap.message)],
            )
            insert_alert(
                conn, Alert(now, GAP_ALERT, AlertSeverity.WARNING, gap.message, detail=detail)
            )
        stored.put(conn, {ALIVE_KEY: now, STOPPED_KEY: None})
    return gap


def beat(conn: sqlite3.Connection, now: datetime) -> None:
    with driver.transaction(conn):
        stored.put(conn, {ALIVE_KEY: now})


def end_run(conn: sqlite3.Connection, now: datetime) -> None:
    with driver.transaction(conn):
        stored.put(conn, {ALIVE_KEY: now, STOPPED_KEY: now})


class Heartbeat:
    """The beat on a thread of its own, with its own connection (SQLite connections belong to
    one thread): `start()` records the last run's gap, `close()` marks a clean stop."""

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        *,
        clock: Callable[[], datetime] = utc_now,
        interval: float = BEAT_INTERVAL_S,
    ) -> None:
        self._connect = connect
        self._clock = clock
        self._interval = interval
        self._stop = threading.Event()
        self._started = threading.Event()
        self._thread: threading.Thread | None = None
        self.gap: Gap | None = None
        """The gap found at start (once `start()` returned)."""

    def start(self) -> None:
        """Begin the run's record and the beat; returns once the record is begun (or could not
        be: logged, and the agent filters on without it)."""
        self._thread = threading.Thread(target=self._main, name="abhaya-heartbeat", daemon=True)
        self._thread.start()
        self._started.wait()

    def close(self, timeout: float = 10.0) -> None:
        """Mark a clean stop and end the thread.  Safe to call twice."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _main(self) -> None:
        try:
            conn = self._connect()
        except Exception:  # noqa: BLE001 - the store's own checks report a broken store
            log.exception("the heartbeat could not open the store; gaps will not be reported")
            self._started.set()
            return
        with contextlib.closing(conn):
            try:
                self.gap = begin_run(conn, self._clock())
                if self.gap is not None:
                    log.warning("%s", self.gap.message)
            except Exception:  # noqa: BLE001 - a gap not recorded must not stop filtering
                log.exception("could not record the start of this run")
            finally:
                self._started.set()
            while not self._stop.wait(self._interval):
                self._write(beat, conn)
            self._write(end_run, conn)

    def _write(
        self, write: Callable[[sqlite3.Connection, datetime], None], conn: sqlite3.Connection
    ) -> None:
        try:
            write(conn, self._clock())
        except driver.Error as error:  # busy for longer than the timeout, disk full: next beat
            log.warning("heartbeat not written: %s", error)
