"""Reads and writes of the `access_requests` table: a child's "please allow this page".

Each helper takes the caller's connection; those that write run in one transaction, so two
parents approving the same request at once cannot both succeed.  A child asking again for a
domain that already has a pending request updates that request instead of adding another, and
the number of pending requests is capped, so a page that submits the form in a loop cannot
flood the parent's list.

A pending request expires after the policy's `[access] request_expiry_hours`.  Expiry is
computed, not stored: callers pass `expired_before` (now minus that time), and a pending row
asked before it reads as EXPIRED, so a change of the policy applies at once to every request.
An approval covers the host asked for or its whole site (`scope`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from abhaya.agent.store import driver
from abhaya.agent.store.events import from_us, to_us
from abhaya.filters.suffixes import registrable_domain

MAX_PENDING = 200
"""Pending requests kept at most; more are refused until a parent decides some."""


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    """Never stored: a pending request asked before `expired_before`."""


class ApprovalScope(StrEnum):
    """What an approval covers: the exact host, or the host's site (registrable domain)."""

    HOST = "host"
    SITE = "site"


class AccessError(Exception):
    """A request cannot be made or decided; the message is fit to show."""


class UnknownRequestError(AccessError):
    """No request has this id."""


class AlreadyDecidedError(AccessError):
    """The request was approved or denied before."""


class RequestExpiredError(AccessError):
    """The request waited longer than the policy allows; the child has to ask again."""


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
    scope: ApprovalScope = ApprovalScope.HOST
    """For an approval: what it covers (rows from before scopes were stored are `host`)."""


@dataclass(frozen=True, slots=True)
class Asked:
    id: int
    new: bool
    """False when the child's pending request for this domain was renewed instead."""


_COLUMNS = "id, time_us, profile, domain, url, reason, status, decided_at_us, expires_at_us, scope"


def _from_row(row: tuple[object, ...], expired_before: datetime | None) -> AccessRequest:
    ident, time_us, profile, domain, url, reason, status, decided_us, expires_us, scope = row
    asked = from_us(int(str(time_us)))
    state = RequestStatus(str(status))
    if state is RequestStatus.PENDING and expired_before is not None and asked < expired_before:
        state = RequestStatus.EXPIRED
    return AccessRequest(
        id=int(str(ident)),
        time=asked,
        profile=str(profile),
        domain=str(domain),
        url=str(url),
        reason=str(reason),
        status=state,
        decided_at=None if decided_us is None else from_us(int(str(decided_us))),
        expires_at=None if expires_us is None else from_us(int(str(expires_us))),
        scope=ApprovalScope(str(scope)),
    )


def create_request(
    conn: sqlite3.Connection,
    profile: str,
    domain: str,
    url: str,
    reason: str,
    now: datetime,
    *,
    counted_since: datetime | None = None,
) -> Asked:
    """Store a pending request (or renew the pending one for this profile and domain, which
    also makes an expired one pending again).  Only pending requests asked at or after
    `counted_since` count towards MAX_PENDING, so expired ones never block new ones."""
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
            return Asked(int(row[0]), new=False)
        pending = conn.execute(
            "SELECT count(*) FROM access_requests WHERE status = 'pending' AND time_us >= ?",
            (0 if counted_since is None else to_us(counted_since),),
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
        return Asked(cursor.lastrowid, new=True)


def list_requests(
    conn: sqlite3.Connection,
    status: RequestStatus | None = None,
    limit: int = 500,
    *,
    expired_before: datetime | None = None,
) -> list[AccessRequest]:
    """Requests, newest first, optionally of one status (pending and expired are told apart
    by `expired_before`)."""
    cutoff = 0 if expired_before is None else to_us(expired_before)
    where: tuple[str, tuple[object, ...]]
    if status is None:
        where = ("", ())
    elif status is RequestStatus.PENDING:
        where = ("WHERE status = 'pending' AND time_us >= ?", (cutoff,))
    elif status is RequestStatus.EXPIRED:
        where = ("WHERE status = 'pending' AND time_us < ?", (cutoff,))
    else:
        where = ("WHERE status = ?", (str(status),))
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM access_requests {where[0]} ORDER BY time_us DESC, id DESC LIMIT ?",
        (*where[1], limit),
    ).fetchall()
    return [_from_row(tuple(row), expired_before) for row in rows]


def get_request(
    conn: sqlite3.Connection, request_id: int, *, expired_before: datetime | None = None
) -> AccessRequest:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM access_requests WHERE id = ?", (request_id,)
    ).fetchone()
    if row is None:
        raise UnknownRequestError(f"no access request with id {request_id}")
    return _from_row(tuple(row), expired_before)


def decide_request(
    conn: sqlite3.Connection,
    request_id: int,
    status: RequestStatus,
    now: datetime,
    expires_at: datetime | None = None,
    *,
    scope: ApprovalScope = ApprovalScope.SITE,
    expired_before: datetime | None = None,
) -> AccessRequest:
    """Approve (until `expires_at`, None for always, covering `scope`) or deny a pending
    request.  An expired request can be denied (to close it) but not approved."""
    if status not in (RequestStatus.APPROVED, RequestStatus.DENIED):
        raise AccessError("a decision is approved or denied")
    with driver.transaction(conn):
        current = get_request(conn, request_id, expired_before=expired_before)
        if current.status is RequestStatus.EXPIRED and status is RequestStatus.APPROVED:
            raise RequestExpiredError(
                f"access request {request_id} has expired (it waited longer than the policy's "
                "[access] request_expiry_hours); the child has to ask again"
            )
        if current.status not in (RequestStatus.PENDING, RequestStatus.EXPIRED):
            raise AlreadyDecidedError(f"access request {request_id} was {current.status} already")
        conn.execute(
            "UPDATE access_requests SET status = ?, decided_at_us = ?, expires_at_us = ?, "
            "scope = ? WHERE id = ?",
            (
                str(status),
                to_us(now),
                None if expires_at is None else to_us(expires_at),
                str(scope),
                request_id,
            ),
        )
    return get_request(conn, request_id)


def latest_per_domain(conn: sqlite3.Connection) -> list[AccessRequest]:
    """The newest request for each (profile, domain) as stored (no expiry applied): what the
    child's page and the proxy's approvals are built from."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM access_requests WHERE id IN "
        "(SELECT max(id) FROM access_requests GROUP BY profile, domain)"
    ).fetchall()
    return [_from_row(tuple(row), None) for row in rows]


def covers(request: AccessRequest) -> str:
    """What an approval lets through: its host, or the site the host belongs to."""
    if request.scope is ApprovalScope.SITE:
        return registrable_domain(request.domain)
    return request.domain


def within(host: str, site: str) -> bool:
    """Whether `host` is `site` or a name under it (`www.bet.example` is within `bet.example`)."""
    return host == site or host.endswith(f".{site}")


def end_approvals(
    conn: sqlite3.Connection,
    site: str,
    profiles: frozenset[str] | None,
    now: datetime,
) -> list[AccessRequest]:
    """End now every approval still running that lets something of `site` through, for the
    named `profiles` (None: every profile); returns them as ended, oldest first.

    An approval ends by running out at `now` (its `expires_at`): the row keeps its history (a
    parent approved it, then ended it) and no status or schema changes.  It lets something of
    `site` through when what it covers (`covers`) is `site` or under it, or, for a site-wide
    approval, contains `site`.
    """
    ended: list[AccessRequest] = []
    with driver.transaction(conn):
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM access_requests WHERE status = 'approved' "
            "AND (expires_at_us IS NULL OR expires_at_us > ?) ORDER BY id",
            (to_us(now),),
        ).fetchall()
        for row in rows:
            approval = _from_row(tuple(row), None)
            if profiles is not None and approval.profile not in profiles:
                continue
            covered = covers(approval)
            if not (
                within(covered, site)
                or (approval.scope is ApprovalScope.SITE and within(site, covered))
            ):
                continue
            conn.execute(
                "UPDATE access_requests SET expires_at_us = ? WHERE id = ?",
                (to_us(now), approval.id),
            )
            ended.append(replace(approval, expires_at=now))
    return ended
