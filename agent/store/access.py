"""Reads and writes of the `access_requests` table: a child's "please allow this page".

Each helper takes the caller's connection; those that write run in one transaction, so two
parents approving the same request at once cannot both succeed.  A child asking again for a
domain that already has a pending request updates that request instead of adding another, and
the number of pending requests is capped, so a page that submits the form in a loop cannot
flood the parent's list.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from abhaya.agent.store import driver
from abhaya.agent.store.events import from_us, to_us

MAX_PENDING = 200
"""Pending requests kept at most; more are refused until a parent decides some."""


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"


class AccessError(Exception):
    """A request cannot be made or decided; the message is fit to show."""


class UnknownRequestError(AccessError):
    """No request has this id."""


class AlreadyDecidedError(AccessError):
    """The request was approved or denied before."""


class TooManyPendingError(AccessError):
    """MAX_PENDING requests wait for a parent already."""


@dataclass(frozen=True, slots=True)
class AccessRequest:
    id: int
    time: datetime
    profile: str
    domain: str
    url: str
    reason: str
    status: RequestStatus
    decided_at: datetime | None = None
    expires_at: datetime | None = None
    """For an approval: when it ends; None means always (or not decided)."""


_COLUMNS = "id, time_us, profile, domain, url, reason, status, decided_at_us, expires_at_us"


def _from_row(row: tuple[object, ...]) -> AccessRequest:
    ident, time_us, profile, domain, url, reason, status, decided_us, expires_us = row
    return AccessRequest(
        id=int(str(ident)),
        time=from_us(int(str(time_us))),
        profile=str(profile),
        domain=str(domain),
        url=str(url),
        reason=str(reason),
        status=RequestStatus(str(status)),
        decided_at=None if decided_us is None else from_us(int(str(decided_us))),
        expires_at=None if expires_us is None else from_us(int(str(expires_us))),
    )


def create_request(
    conn: sqlite3.Connection, profile: str, domain: str, url: str, reason: str, now: datetime
) -> int:
    """Store a pending request (or refresh the pending one for this profile and domain)."""
    with driver.transaction(conn):
        row = conn.execute(
            "SELECT id FROM access_requests WHERE status = 'pending' AND profile = ? "
            "AND domain = ? ORDER BY id DESC LIMIT 1",
            (profile, domain),
        ).fetchone()
        if row is not None:
            conn.execute(
                "UPDATE access_requests SET time_us = ?, url = ?, reason = ? WHERE id = ?",
                (to_us(now), url, reason, row[0]),
            )
            return int(row[0])
        pending = conn.execute(
            "SELECT count(*) FROM access_requests WHERE status = 'pending'"
        ).fetchone()[0]
        if int(pending) >= MAX_PENDING:
            raise TooManyPendingError(
                f"{MAX_PENDING} requests are waiting for a parent already; ask again later"
            )
        cursor = conn.execute(
            "INSERT INTO access_requests (time_us, profile, domain, url, reason) "
            "VALUES (?, ?, ?, ?, ?)",
            (to_us(now), profile, domain, url, reason),
        )
        if cursor.lastrowid is None:
            raise AccessError("INSERT INTO access_requests returned no row id")
        return cursor.lastrowid


def list_requests(
    conn: sqlite3.Connection, status: RequestStatus | None = None, limit: int = 500
) -> list[AccessRequest]:
    """Requests, newest first, optionally of one status."""
    where, params = ("WHERE status = ?", (str(status),)) if status is not None else ("", ())
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM access_requests {where} ORDER BY time_us DESC, id DESC LIMIT ?",
        (*params, limit),
    ).fetchall()
    return [_from_row(tuple(row)) for row in rows]


def get_request(conn: sqlite3.Connection, request_id: int) -> AccessRequest:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM access_requests WHERE id = ?", (request_id,)
    ).fetchone()
    if row is None:
        raise UnknownRequestError(f"no access request with id {request_id}")
    return _from_row(tuple(row))


def decide_request(
    conn: sqlite3.Connection,
    request_id: int,
    status: RequestStatus,
    now: datetime,
    expires_at: datetime | None = None,
) -> AccessRequest:
    """Approve (until `expires_at`, None for always) or deny a pending request."""
    if status is RequestStatus.PENDING:
        raise AccessError("a decision is approved or denied")
    with driver.transaction(conn):
        current = get_request(conn, request_id)
        if current.status is not RequestStatus.PENDING:
            raise AlreadyDecidedError(f"access request {request_id} was {current.status} already")
        conn.execute(
            "UPDATE access_requests SET status = ?, decided_at_us = ?, expires_at_us = ? "
            "WHERE id = ?",
            (
                str(status),
                to_us(now),
                None if expires_at is None else to_us(expires_at),
                request_id,
            ),
        )
    return get_request(conn, request_id)


def latest_per_domain(conn: sqlite3.Connection) -> list[AccessRequest]:
    """The newest request for each (profile, domain): what the child's page and the proxy's
    grants are built from."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM access_requests WHERE id IN "
        "(SELECT max(id) FROM access_requests GROUP BY profile, domain)"
    ).fetchall()
    return [_from_row(tuple(row)) for row in rows]
