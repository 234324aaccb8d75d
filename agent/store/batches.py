"""Committing one batch of events, so that no single event can take the batch down with it.

The writer hands over a batch and gets back the id of the last stored event and how many were
left out.  A batch is one transaction; if the database refuses it for a reason that is about
the events themselves (a value it cannot bind, a constraint), the same batch is stored event by
event in one transaction instead, the ones that still fail are left out, and a
`dropped_events` record saying how many and why goes into that same transaction, so the gap is
itself in the history.  Transient trouble (busy, locked, disk I/O) is not handled here: it
reaches the writer, which retries the whole batch.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from abhaya.agent.store import driver
from abhaya.agent.store.alerts import Alert, insert_alert
from abhaya.agent.store.events import INSERT_EVENT, Event, EventKind, event_row, insert_events

log = logging.getLogger(__name__)

UNSTORABLE: tuple[type[Exception], ...] = (driver.Error, ValueError, TypeError, OverflowError)
"""What storing an event can raise besides transient trouble (OperationalError)."""


AlertRule = Callable[[int, Event], Alert | None]
"""The alert a stored event raises, given its id (None for almost every event): the agent's
rule (`abhaya.agent.imagealerts`), passed in so the store knows nothing of images."""


@dataclass(frozen=True, slots=True)
class Committed:
    last_id: int
    """The id of the batch's last stored event (0 if none was stored)."""
    left_out: int = 0
    """Events that could not be stored, one by one either."""
    first_error: str = ""


def commit_batch(
    conn: sqlite3.Connection,
    batch: Sequence[Event],
    now: datetime,
    alert_for: AlertRule | None = None,
) -> Committed:
    """Store `batch` in one transaction, event by event when the batch as a whole is refused.

    The alerts `alert_for` asks for are stored in the same transaction as their events: an
    event that should have raised one is never stored without it.  Raises the driver's
    OperationalError (transient) for the caller to retry.
    """
    try:
        with driver.transaction(conn):
            last_id = insert_events(conn, batch)
            # One writer, one transaction, one statement: the batch's ids are consecutive.
            first_id = last_id - len(batch) + 1
            _raise_alerts(conn, zip(range(first_id, last_id + 1), batch, strict=True), alert_for)
            return Committed(last_id)
    except driver.OperationalError:
        raise
    except UNSTORABLE as error:
        log.warning("event batch refused (%s); storing its events one by one", error)
    return _commit_each(conn, batch, now, alert_for)


def _raise_alerts(
    conn: sqlite3.Connection,
    stored: Iterable[tuple[int, Event]],
    alert_for: AlertRule | None,
) -> None:
    if alert_for is None:
        return
    for ident, event in stored:
        try:
            alert = alert_for(ident, event)
        except Exception:  # noqa: BLE001 - a faulty rule must never cost the event itself
            log.exception("the alert rule failed on event %d; the event is kept", ident)
            continue
        if alert is not None:
            insert_alert(conn, alert)


def _commit_each(
    conn: sqlite3.Connection,
    batch: Sequence[Event],
    now: datetime,
    alert_for: AlertRule | None = None,
) -> Committed:
    last_id = 0
    left_out = 0
    first_error = ""
    with driver.transaction(conn):
        for event in batch:
            try:
                cursor = conn.execute(INSERT_EVENT, event_row(event))
            except driver.OperationalError:
                raise
            except UNSTORABLE as error:
                left_out += 1
                first_error = first_error or f"{type(error).__name__}: {error}"
                continue
            last_id = cursor.lastrowid or last_id
            _raise_alerts(conn, [(last_id, event)], alert_for)
        if left_out:
            detail = f"{left_out} events could not be stored and were left out ({first_error})"
            note = Event(time=now, kind=EventKind.DROPPED_EVENTS, detail=detail)
            last_id = insert_events(conn, [note])
    if left_out:
        log.error("%d events could not be stored: %s", left_out, first_error)
    return Committed(last_id, left_out, first_error)
