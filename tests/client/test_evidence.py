"""The evidence package's parts: which events have one, where to file it, how it is written."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from abhaya.agent.imageevidence import ImageEvidence
from abhaya.client import contract
from abhaya.client.api import ClientError
from abhaya.client.evidence import (
    EvidenceReport,
    Machine,
    ReportExists,
    filing_for,
    image_evidence,
    report_paths,
    write_private_files,
)


def record(**fields: object) -> contract.EventRecord:
    """An image event as the API sends it; keyword arguments override any field."""
    values: dict[str, object] = {
        "id": 41,
        "time": "2026-11-30T10:00:00+00:00",
        "kind": "image",
        "profile": "child",
        "category": "csam",
        "action": "block",
        "domain": "img.example",
        "url": "https://img.example/a.jpg",
        "rule": "test-list",
        "app": "",
        "detail": ImageEvidence(sha256="cd" * 32, distance=3, list_name="test-list").to_json(),
        "reason": "hash_match",
        "os_user": "kid",
        "process": "browser",
    }
    values.update(fields)
    return values  # type: ignore[return-value]


def a_report(**fields: object) -> EvidenceReport:
    item = record(**fields)
    return EvidenceReport(
        record=item,
        image=image_evidence(item),
        local_time="2026-11-30T15:30:00+05:30",
        timezone="Asia/Kolkata",
        machine=Machine("lab-7", "Linux", "6.1 (Debian)", "0.1.0"),
        made_at=datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
        filing=filing_for("in"),
    )


def test_only_an_image_event_has_evidence() -> None:
    assert image_evidence(record()).distance == 3
    with pytest.raises(ClientError, match="event 41 is a verdict event, not an image event"):
        image_evidence(record(kind="verdict"))
    with pytest.raises(ClientError, match="event 41: .*distance should be an integer"):
        image_evidence(record(detail='{"distance": "near"}'))


def test_india_files_with_the_cyber_crime_portal_and_1930() -> None:
    filing = filing_for("in")
    assert filing.place == "India"
    assert any(
        "https://cybercrime.gov.in" in step and "anonymously" in step for step in filing.steps
    )
    assert any("1930" in step for step in filing.steps)
    assert {"web": "https://cybercrime.gov.in", "phones": ["1930"]}.items() <= filing.contacts[
        0
    ].items()


def test_the_parent_reads_the_same_filing_in_hindi() -> None:
    english, hindi = filing_for("in"), filing_for("in", "hi")
    assert hindi.place == "भारत" and len(hindi.steps) == len(english.steps)
    assert any("https://cybercrime.gov.in" in step and "शिकायत" in step for step in hindi.steps)
    assert [c["web"] for c in hindi.contacts] == [c["web"] for c in english.contacts]
    assert filing_for("in", "fr") == english  # a language the pack lacks: its English


def test_an_unknown_jurisdiction_gets_the_generic_pack() -> None:
    filing = filing_for("zz")
    assert filing.jurisdiction == "intl"
    assert any("https://www.inhope.org" in step for step in filing.steps)


def test_the_json_holds_every_field_and_says_no_image_is_kept() -> None:
    data = a_report().to_dict()
    assert data["image_kept"] is False and "No image is kept" in data["note"]
    assert set(data["event"]) == {
        "id", "kind", "time", "time_local", "timezone", "category", "action", "reason",
        "domain", "url", "rule", "profile", "os_user", "process",
    }  # fmt: skip
    assert data["image"]["list"] == "test-list" and data["image"]["sha256"] == "cd" * 32
    assert data["machine"] == {
        "hostname": "lab-7",
        "os": "Linux",
        "os_version": "6.1 (Debian)",
        "agent_version": "0.1.0",
    }
    assert data["made_at"] == "2026-12-01T08:00:00+00:00"


def test_files_are_private_and_never_overwritten(tmp_path: Path) -> None:
    first, second = report_paths(tmp_path, 41)
    assert (first.name, second.name) == ("abhaya-evidence-41.json", "abhaya-evidence-41.html")
    write_private_files({first: "one", second: "two"})
    assert [stat.S_IMODE(p.stat().st_mode) for p in (first, second)] == [0o600, 0o600]
    with pytest.raises(ReportExists, match="already exists; nothing was written") as refused:
        write_private_files({first: "three", second: "four"})
    assert refused.value.path == first
    assert (first.read_text(), second.read_text()) == ("one", "two")


def test_an_existing_second_file_leaves_no_first_file(tmp_path: Path) -> None:
    first, second = report_paths(tmp_path, 5)
    second.write_text("kept")
    with pytest.raises(ClientError, match="abhaya-evidence-5.html already exists"):
        write_private_files({first: "new", second: "new"})
    assert not first.exists() and second.read_text() == "kept"


def test_a_file_that_cannot_be_written_leaves_nothing(tmp_path: Path) -> None:
    first, _ = report_paths(tmp_path, 6)
    missing = tmp_path / "no-such-folder" / "abhaya-evidence-6.html"
    with pytest.raises(ClientError, match="cannot write the report"):
        write_private_files({first: "new", missing: "new"})
    assert list(tmp_path.iterdir()) == []
