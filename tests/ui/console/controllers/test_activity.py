"""An event in words, and the filter row turned into the API's query."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from abhaya.agent.imageevidence import ImageEvidence
from abhaya.client import contract
from abhaya.ui.console.controllers.activity import FilterInput, build_query, describe
from abhaya.ui.console.texts import Texts

KOLKATA = ZoneInfo("Asia/Kolkata")


def _record(**fields: object) -> contract.EventRecord:
    base: dict[str, object] = {
        "id": 1, "time": "2026-11-30T10:00:00+00:00", "kind": "verdict", "profile": "child",
        "category": "", "action": "", "domain": "", "url": "", "rule": "", "app": "",
        "detail": "", "reason": "", "os_user": "", "process": "",
    }  # fmt: skip
    return contract.EventRecord(**(base | fields))  # type: ignore[typeddict-item]


def test_a_verdict_in_hindi_words_in_the_policys_time() -> None:
    record = _record(category="gambling", action="block", reason="list", domain="bet.example")
    lines = dict(describe(record, Texts("hi"), KOLKATA))
    assert lines["कब"] == "2026-11-30 15:30:00"
    assert lines["क्या हुआ"] == "वेब पेज की जाँच: रोका गया"
    assert lines["श्रेणी"] == Texts("hi").category("gambling")
    assert "पता" not in lines  # empty fields are left out


def test_an_image_events_evidence_is_words_not_json() -> None:
    evidence = ImageEvidence(
        sha256="ab" * 32, pdq="a5" * 32, pdq_quality=92, distance=7,
        list_name="test-known-images", list_version="2026-11-29", listed_hash="a4" * 32,
        label="entry", page="https://forum.example/thread/4", width=800, height=600,
        format="jpeg",
    )  # fmt: skip
    record = _record(kind="image", category="csam", action="block", detail=evidence.to_json())
    note = dict(describe(record, Texts("en"), KOLKATA))["Note"]
    assert "{" not in note and '"' not in note
    assert "list: test-known-images" in note.splitlines()
    assert "page: https://forum.example/thread/4" in note.splitlines()


def test_the_filter_row_becomes_the_apis_query_in_the_policys_days() -> None:
    chosen = FilterInput(
        kind="verdict", category="adult", since=date(2026, 11, 1), until=date(2026, 11, 30),
        text="  casino ",
    )  # fmt: skip
    query = build_query(chosen, KOLKATA)
    assert (query.kinds, query.categories, query.text) == (("verdict",), ("adult",), "casino")
    assert contract.parse_time(query.since or "") == datetime(2026, 10, 31, 18, 30, tzinfo=UTC)
    assert contract.parse_time(query.until or "") == datetime(2026, 11, 30, 18, 30, tzinfo=UTC)
    assert build_query(FilterInput(), KOLKATA) == build_query(FilterInput(), None)
