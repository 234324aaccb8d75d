"""What the store records: one `Event` per thing a parent may want to review.

Events are plain frozen records so the proxy thread that builds one never shares mutable state
with the writer thread that stores it.  Times are aware UTC datetimes in Python and integer
microseconds in the database: integers sort and compare in indexes without parsing, and
microseconds keep the order of events that happen within one millisecond.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from abhaya.filters.urlnorm import bracketed

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
MAX_FIELD_CHARS = 4096
"""Longest text kept in one field of an event; longer text is cut and the cut is stated."""
_SURROGATES = re.compile("[\ud800-\udfff]")


class EventKind(StrEnum):
    """Why an event was recorded; the console filters on this."""

    VERDICT = "verdict"  # the proxy warned, blocked, rewrote or let a child continue
    TAMPER = "tamper"  # something changed that protection depends on (store replaced, ...)
    PIN_FAILED = "pin_failed"  # a wrong parent PIN
    DROPPED_EVENTS = "dropped_events"  # the writer's queue was full; `detail` holds the count
    ACCESS_REQUEST = "access_request"  # a child asked a parent for access
    ACCESS_DECISION = "access_decision"  # a parent approved or denied a request
    PROTECTION = "protection"  # filtering paused or resumed, policy changed
    APP = "app"  # the app monitor blocked or limited an application
    FAULT = "fault"  # a part of the agent failed and was restarted (the event writer, ...)
    IMAGE = "image"  # an image screened and acted on; `detail` is `imageevidence.ImageEvidence`


def to_us(moment: datetime) -> int:
    """Aware datetime -> integer microseconds since the epoch (exact, no float rounding)."""
    if moment.tzinfo is None:
        raise ValueError("event times must be timezone-aware (UTC)")
    return (moment - EPOCH) // _ONE_US


def from_us(micros: int) -> datetime:
    """Integer microseconds since the epoch -> aware UTC datetime."""
    return EPOCH + timedelta(microseconds=micros)


def url_without_query(url: str) -> str:
    """The URL with its query string, fragment and any user:password removed.

    Search terms and tokens live in the query; credentials in the user-info part.  The parent
    needs the page, not those, so only scheme, host, port and path are kept unless the policy
    explicitly asks for full URLs.  Never raises: a URL that `urlsplit` refuses (a Host of
    `[x` makes an "Invalid IPv6 URL") is cut by hand at the same places instead.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return _cut_by_hand(url)
    # urlsplit strips an IPv6 literal's brackets; urlunsplit needs them back.
    host = bracketed(parts.hostname or "")
    try:
        port = parts.port
    except ValueError:  # an unreadable port: keep no more than the host
        port = None
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _cut_by_hand(url: str) -> str:
    """Drop the query, the fragment and the user-info of a URL too malformed to parse."""
    url = re.split(r"[?#]", url, maxsplit=1)[0]
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    return f"{scheme}://{authority.rpartition('@')[2]}{slash}{path}"


def storable_text(text: str, limit: int = MAX_FIELD_CHARS) -> str:
    """`text` as SQLite can always store it: lone surrogates escaped, at most `limit` chars.

    Undecodable request bytes reach us as lone surrogates (Python's surrogateescape: byte 0xDF
    becomes U+DCDF), which UTF-8 cannot encode; they are written as visible escapes (`\\xdf`
    for an escaped byte, `\\ud800` otherwise) so the parent still sees that odd bytes were
    there.  Text over `limit` is cut and says how much was cut.  Never raises.
    """
    if not text.isascii():
        text = _SURROGATES.sub(_escape_surrogate, text)
    if len(text) > limit:
        cut = len(text) - limit
        text = f"{text[:limit]}... [{cut} more characters not kept]"
    return text


def _escape_surrogate(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # one undecodable byte, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


@dataclass(frozen=True, slots=True)
class Event:
    """One reviewable happening.  Empty strings mean "not known" (no NULL checks in queries)."""

    time: datetime
    kind: EventKind
    profile: str = ""
    category: str = ""
    action: str = ""
    domain: str = ""
    url: str = ""
    rule: str = ""
    app: str = ""
    detail: str = ""
    reason: str = ""
    """Why the agent acted (`filters.verdict.Reason` for verdicts); `category` is what."""
    os_user: str = ""
    """The OS account whose process made the request, when it could be attributed."""
    process: str = ""
    """The name of that process (the browser or app), when known."""

    def __post_init__(self) -> None:
        """Refuse a naive time; make every text field storable (see `storable_text`).

        Done here, on the thread that builds the event, so a hostile request can never make
        the writer's batch fail: whatever bytes it had, the event can be stored.
        """
        if self.time.tzinfo is None:
            raise ValueError("Event.time must be timezone-aware (UTC)")
        for name in _TEXT_FIELDS:
            value = getattr(self, name)
            text = value if isinstance(value, str) else str(value)
            safe = storable_text(text)
            if safe is not value:
                object.__setattr__(self, name, safe)


_TEXT_FIELDS = tuple(f.name for f in fields(Event) if f.name not in ("time", "kind"))


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as read back, with the id the database gave it."""

    id: int
    event: Event


_COLUMN_NAMES = (
    "time_us",
    "kind",
    "profile",
    "category",
    "action",
    "domain",
    "url",
    "rule",
    "app",
    "detail",
    "reason",
    "os_user",
    "process",
)
EVENT_COLUMNS = ", ".join(_COLUMN_NAMES)
INSERT_EVENT = (
    f"INSERT INTO events ({EVENT_COLUMNS}) VALUES ({', '.join('?' for _ in _COLUMN_NAMES)})"
)


def event_row(event: Event) -> tuple[int | str, ...]:
    """The parameter tuple for one row of `events` (column order of EVENT_COLUMNS)."""
    return (
        to_us(event.time),
        str(event.kind),
        event.profile,
        event.category,
        event.action,
        event.domain,
        event.url,
        event.rule,
        event.app,
        event.detail,
        event.reason,
        event.os_user,
        event.process,
    )


def insert_events(conn: sqlite3.Connection, events: Sequence[Event]) -> int:
    """Insert events inside the caller's transaction; returns the id of the last one (0 if none).

    The caller owns the transaction so that a batch commits (and counts as stored) as a whole.
    """
    if not events:
        return 0
    conn.executemany(INSERT_EVENT, [event_row(event) for event in events])
    row = conn.execute("SELECT last_insert_rowid()").fetchone()
    return int(row[0])


def event_from_row(row: Sequence[object]) -> StoredEvent:
    """Rebuild a stored event from `SELECT id, <EVENT_COLUMNS>`."""
    ident, time_us, kind, *rest = row
    if not isinstance(ident, int) or not isinstance(time_us, int):
        raise TypeError(f"events row has non-integer id or time: {ident!r}, {time_us!r}")
    profile, category, action, domain, url, rule, app, detail, reason, os_user, process = (
        str(value) for value in rest
    )
    return StoredEvent(
        id=ident,
        event=Event(
            time=from_us(time_us),
            kind=EventKind(str(kind)),
            profile=profile,
            category=category,
            action=action,
            domain=domain,
            url=url,
            rule=rule,
            app=app,
            detail=detail,
            reason=reason,
            os_user=os_user,
            process=process,
        ),
    )
