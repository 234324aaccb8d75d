"""The evidence package of `abhaya report EVENT_ID`: one image event, for the authorities.

A report is built from what the agent recorded (the event, read over the API, and its
`ImageEvidence`), the machine it was recorded on and the jurisdiction pack that says where to
file it.  It holds hashes, addresses, times and names, and never the image: the agent keeps no
image of such an event, and a report must not become a way to carry one (../shared/DESIGN.md).

The files are the family's evidence and a child's history: they are created 0600, and an
existing file of the same name is never overwritten (the report is refused and nothing is
written), so an earlier report handed to the police cannot be replaced by accident.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

from abhaya.agent.imageevidence import ImageEvidence, ImageEvidenceError
from abhaya.client import contract
from abhaya.client.api import ClientError
from abhaya.client.commands import family_zone, shown_time
from abhaya.ui.pages.packs import (
    FALLBACK_JURISDICTION,
    FALLBACK_LANGUAGE,
    Jurisdiction,
    Role,
    load_jurisdictions,
    load_locales,
)

FORMAT = "abhaya-evidence/1"
"""The JSON file's `format`: a reader checks it before trusting the fields."""
IMAGE_KIND = "image"
NO_IMAGE = (
    "No image is kept: Abhaya never stores or sends the image itself. This report holds only "
    "its hashes (SHA-256, PDQ), where and when it was seen, and on which computer."
)


@dataclass(frozen=True, slots=True)
class Machine:
    """The computer the event was recorded on (the API answers on loopback only: this one)."""

    hostname: str
    os: str
    os_version: str
    agent_version: str


def this_machine() -> Machine:
    try:
        version = importlib.metadata.version("abhaya")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    system = platform.system() or "unknown"
    os_version = platform.release()
    with contextlib.suppress(OSError):  # Linux: name the distribution too
        os_version += f" ({platform.freedesktop_os_release()['PRETTY_NAME']})"
    return Machine(platform.node() or "unknown", system, os_version.strip(), version)


@dataclass(frozen=True, slots=True)
class Filing:
    """Where to file the report, from the policy's jurisdiction pack (in English)."""

    jurisdiction: str
    place: str
    steps: tuple[str, ...]
    contacts: tuple[dict[str, Any], ...]
    """Each: name, web (may be ""), phones, note."""


def filing_for(code: str, language: str = FALLBACK_LANGUAGE) -> Filing:
    """The pack's filing steps and reporting contacts; an unknown code gets the generic pack,
    as the warning pages do.  The report itself is in English (`language` left alone) for the
    authorities; the console shows the parent the same steps in the parent's language."""
    root = files("abhaya.ui.pages")
    packs = load_jurisdictions(root / "jurisdictions", load_locales(root / "locales"))
    pack: Jurisdiction = packs.get(code) or packs[FALLBACK_JURISDICTION]
    if language not in pack.text:
        language = FALLBACK_LANGUAGE
    text = pack.text[language]
    contacts = tuple(
        {
            "name": contact.text[language].name,
            "web": contact.web,
            "phones": list(contact.phones),
            "note": contact.text[language].note,
        }
        for contact in pack.with_role(Role.REPORT)
    )
    return Filing(pack.code, text.name, text.filing, contacts)


@dataclass(frozen=True, slots=True)
class EvidenceReport:
    record: contract.EventRecord
    image: ImageEvidence
    local_time: str
    """The event's time in the policy's time zone (ISO 8601 with its offset)."""
    timezone: str
    machine: Machine
    made_at: datetime
    filing: Filing

    def to_dict(self) -> dict[str, Any]:
        record: dict[str, object] = dict(self.record)
        event = {
            name: record[name]
            for name in (
                "id",
                "kind",
                "time",
                "category",
                "action",
                "reason",
                "domain",
                "url",
                "rule",
                "profile",
                "os_user",
                "process",
            )
        }
        event.update(time_local=self.local_time, timezone=self.timezone)
        return {
            "format": FORMAT,
            "made_at": self.made_at.astimezone(UTC).isoformat(timespec="seconds"),
            "image_kept": False,
            "note": NO_IMAGE,
            "event": event,
            "image": self.image.to_dict(),
            "machine": {
                "hostname": self.machine.hostname,
                "os": self.machine.os,
                "os_version": self.machine.os_version,
                "agent_version": self.machine.agent_version,
            },
            "filing": {
                "jurisdiction": self.filing.jurisdiction,
                "place": self.filing.place,
                "steps": list(self.filing.steps),
                "contacts": list(self.filing.contacts),
            },
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"


def image_evidence(record: contract.EventRecord) -> ImageEvidence:
    """The image behind an event; ClientError in words for any other kind of event."""
    if record["kind"] != IMAGE_KIND:
        raise ClientError(
            f"event {record['id']} is a {record['kind']} event, not an image event; "
            "evidence reports are made for image events only (abhaya events --kind image)"
        )
    try:
        return ImageEvidence.from_json(record["detail"])
    except ImageEvidenceError as error:
        raise ClientError(f"event {record['id']}: {error}") from None


def build_report(
    record: contract.EventRecord, status: contract.Status, made_at: datetime
) -> EvidenceReport:
    """The report of one image event, from its record and the agent's status (its policy's
    time zone and jurisdiction), both read over the API by the caller; ClientError in words
    for an event that is not an image event or a time zone the machine does not know."""
    policy = status["policy"]
    return EvidenceReport(
        record=record,
        image=image_evidence(record),
        local_time=shown_time(record["time"], family_zone(status)),
        timezone=policy["timezone"],
        machine=this_machine(),
        made_at=made_at,
        filing=filing_for(policy["jurisdiction"]),
    )


class ReportExists(ClientError):
    """A file of the report's name is already in the folder; nothing was written."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"{path} already exists; nothing was written (move it away or use --out DIR)"
        )
        self.path = path


def report_paths(out_dir: Path, event_id: int) -> tuple[Path, Path]:
    stem = f"abhaya-evidence-{event_id}"
    return out_dir / f"{stem}.json", out_dir / f"{stem}.html"


def write_private_files(contents: dict[Path, str]) -> None:
    """Create each file 0600 with its text, all or none: an existing file (or a failure) stops
    the report and removes the files this call created, so no half report is left."""
    for path in contents:
        if path.exists() or path.is_symlink():
            raise ReportExists(path)
    created: list[Path] = []
    try:
        for path, text in contents.items():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            created.append(path)
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                os.fchmod(file.fileno(), 0o600)  # whatever the umask
                file.write(text)
    except OSError as error:
        for path in created:
            path.unlink(missing_ok=True)
        raise ClientError(f"cannot write the report: {error}; nothing was kept") from None
