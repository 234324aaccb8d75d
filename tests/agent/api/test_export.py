"""Export formats: CSV that is safe to open in a spreadsheet, JSON that is one list."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from abhaya.agent.api.export import FIELDS, csv_chunks, event_record, json_chunks
from abhaya.agent.store import Event, EventKind, StoredEvent

T0 = datetime(2026, 11, 30, 4, 30, tzinfo=UTC)


def stored(ident: int, **fields: str) -> StoredEvent:
    return StoredEvent(ident, Event(time=T0, kind=EventKind.VERDICT, **fields))


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ('=HYPERLINK("http://x.example")', '\'=HYPERLINK("http://x.example")'),
        ("+1+2", "'+1+2"),
        ("-3", "'-3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("adult.example", "adult.example"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_csv_cells_never_run_as_formulas(value: str, shown: str) -> None:
    text = b"".join(csv_chunks([stored(1, detail=value, domain="d.example")])).decode()
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert row["detail"] == shown
    assert row["domain"] == "d.example"


def test_csv_has_a_header_and_one_row_per_event_across_chunks() -> None:
    events = [stored(i, url=f'https://e.example/{i},"quoted"\nline') for i in range(1, 1201)]
    chunks = list(csv_chunks(events))
    assert len(chunks) > 1
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode())))
    assert tuple(rows[0]) == FIELDS
    assert len(rows) == 1201
    assert rows[1200][7] == 'https://e.example/1200,"quoted"\nline'


@pytest.mark.parametrize("count", [0, 1, 3])
def test_json_export_is_one_list(count: int) -> None:
    events = [stored(i, domain=f"{i}.example") for i in range(count)]
    records = json.loads(b"".join(json_chunks(events)))
    assert records == [event_record(item) for item in events]


def test_record_times_are_utc_iso() -> None:
    assert event_record(stored(5))["time"] == "2026-11-30T04:30:00+00:00"
