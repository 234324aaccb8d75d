"""Alerts: the few things that need a parent's attention, not just a line in the history.

Events are the full history; an alert is raised for what should be acknowledged (the store
was replaced, protection was tampered with).  Alerts are kept longer than events (a year by
default) because they are rare and matter more.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from abhaya.agent.store.events import from_us, to_us


class AlertSeverity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class Alert:
    time: datetime
    kind: str
    severity: AlertSeverity
    message: str
    acknowledged: bool = False
    profile: str = ""
    """The child (policy profile) the alert is about; empty for the machine as a whole."""
    detail: str = ""
    """What a parent needs to judge it, as JSON (a chat alert's site, thread, labels and
    messages: `abhaya.agent.chat.evidence`); empty for alerts the message says all of."""


@dataclass(frozen=True, slots=True)
class StoredAlert:
    id: int
    alert: Alert


def insert_alert(conn: sqlite3.Connection, alert: Alert) -> int:
    """Insert inside the caller's transaction; returns the new alert's id."""
    cursor = conn.execute(
        "INSERT INTO alerts (time_us, kind, severity, message, acknowledged, profile, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            to_us(alert.time),
            alert.kind,
            str(alert.severity),
            alert.message,
            int(alert.acknowledged),
            alert.profile,
            alert.detail,
        ),
    )
    if cursor.lastrowid is None:
        raise RuntimeError("INSERT INTO alerts returned no row id")
    return cursor.lastrowid


def list_alerts(
    conn: sqlite3.Connection, *, unacknowledged_only: bool = False
) -> list[StoredAlert]:
    """All alerts, newest first (there are few; no paging needed)."""
    where = "WHERE acknowledged = 0" if unacknowledged_only else ""
    rows = conn.execute(
        "SELECT id, time_us, kind, severity, message, acknowledged, profile, detail "
        f"FROM alerts {where} "
        "ORDER BY time_us DESC, id DESC"
    ).fetchall()
    return [
        StoredAlert(
            id=int(ident),
            alert=Alert(
                time=from_us(int(time_us)),
                kind=str(kind),
                severity=AlertSeverity(str(severity)),
                message=str(message),
                acknowledged=bool(acknowledged),
                profile=str(profile),
                detail=str(detail),
            ),
        )
        for ident, time_us, kind, severity, message, acknowledged, profile, detail in rows
    ]


def acknowledge_alert(conn: sqlite3.Connection, alert_id: int) -> bool:
    """Mark one alert as seen by a parent; False if there is no such alert."""
    cursor = conn.execute("UPDATE alerts SET acknowledged = 1 WHERE id = ?", (alert_id,))
    return cursor.rowcount == 1
