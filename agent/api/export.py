"""Events as records for clients: one JSON shape for pages, and CSV or JSON files for export.

Exports stream: rows are read a page at a time through the store's keyset cursor and written
as they come, so a year of history never sits in memory.  CSV cells that a spreadsheet would
run as a formula (starting with = + - @ or a control character) get a leading apostrophe: the
URLs and domains come from the child's traffic, and an export must be safe to open.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC

from abhaya.agent.store import StoredEvent
from abhaya.agent.store.queries import MAX_PAGE_SIZE, EventFilter, PageCursor, events_page
from abhaya.client import contract

FIELDS: tuple[str, ...] = tuple(contract.EventRecord.__annotations__)
"""The CSV columns: the fields of the API's event record, in its order."""
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def event_record(item: StoredEvent) -> contract.EventRecord:
    """The JSON form of a stored event (time as ISO 8601 UTC)."""
    event = item.event
    return {
        "id": item.id,
        "time": event.time.astimezone(UTC).isoformat(),
        "kind": str(event.kind),
        "profile": event.profile,
        "category": event.category,
        "action": event.action,
        "domain": event.domain,
        "url": event.url,
        "rule": event.rule,
        "app": event.app,
        "detail": event.detail,
        "reason": event.reason,
        "os_user": event.os_user,
        "process": event.process,
    }


def iter_events(
    connect: Callable[[], sqlite3.Connection], where: EventFilter
) -> Iterator[StoredEvent]:
    """Every event matching `where`, newest first, one page per query; the connection is
    opened on first use and closed when the iteration ends (or is abandoned)."""
    with contextlib.closing(connect()) as conn:
        cursor: PageCursor | None = None
        while True:
            page = events_page(conn, where, limit=MAX_PAGE_SIZE, after=cursor)
            yield from page.events
            if page.next_cursor is None:
                return
            cursor = page.next_cursor


def _safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_chunks(events: Iterable[StoredEvent]) -> Iterator[bytes]:
    """CSV (UTF-8, header row, RFC 4180 quoting) in chunks of about a page."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(FIELDS)
    for count, item in enumerate(events, start=1):
        record: dict[str, object] = dict(event_record(item))
        writer.writerow([_safe_cell(record[name]) for name in FIELDS])
        if count % MAX_PAGE_SIZE == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def json_chunks(events: Iterable[StoredEvent]) -> Iterator[bytes]:
    """A JSON list of event records, one record per chunk."""
    separator = "[\n"
    for item in events:
        yield (separator + json.dumps(event_record(item), ensure_ascii=False)).encode("utf-8")
        separator = ",\n"
    yield b"[]\n" if separator == "[\n" else b"\n]\n"
