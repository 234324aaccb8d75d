"""The Alerts page's "save the report for the police": a known-image alert's evidence package.

The package is the one `abhaya report EVENT_ID` writes (ui/evidence/render.write_package: JSON
and HTML, 0600, never over an existing file, hashes and never the image), built from the image
event read over the API (`GET /v1/events/<id>`) and the agent's status (time zone and
jurisdiction).  Everything here runs on a runner thread: two API calls and two small files.
The files are in English for the authorities; what the parent reads here (where to report it)
is in the console's language, from the same jurisdiction pack.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from abhaya.client import evidence
from abhaya.ui.console.service import ConsoleService
from abhaya.ui.console.texts import Texts
from abhaya.ui.evidence.render import write_package


@dataclass(frozen=True, slots=True)
class SavedEvidence:
    json_path: Path
    html_path: Path
    filing: evidence.Filing
    """Where to file it, in the console's language."""


def save_evidence(
    service: ConsoleService, event_id: int, folder: Path, language: str
) -> SavedEvidence:
    """Read the event and the status, write the package into `folder`; ClientError in words
    (`evidence.ReportExists` when a report of this event is already there)."""
    record, status = service.evidence_input(event_id)
    report = evidence.build_report(record, status, datetime.now(UTC))
    json_path, html_path = write_package(report, folder)
    return SavedEvidence(
        json_path, html_path, evidence.filing_for(report.filing.jurisdiction, language)
    )


def saved_words(saved: SavedEvidence, texts: Texts) -> str:
    """What the parent is told: where the files are, that no picture is in them, and where
    to report it (the pack's steps and its reporting contacts)."""
    filing = saved.filing
    lines = [
        texts("evidence.saved", json=saved.json_path, html=saved.html_path),
        texts("evidence.where", place=filing.place),
        *(f"• {step}" for step in filing.steps),
    ]
    for contact in filing.contacts:
        reach = [str(contact["web"])] if contact["web"] else []
        if contact["phones"]:
            reach.append(texts("evidence.phone", phones=", ".join(contact["phones"])))
        lines.append(f"• {contact['name']}: {', '.join(reach)}")
    return "\n".join(lines)
