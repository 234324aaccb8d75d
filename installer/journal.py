"""The install journal: what `abhaya install` did, kept so `abhaya uninstall` can undo it.

It lives in the host's state folder as JSON (mode 0600), written atomically after every step,
so an install stopped half-way (a crash, a power cut) can still be undone, and an uninstall
stopped half-way goes on where it stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from abhaya.installer.host import Host, InstallError
from abhaya.installer.steps import Undo

JOURNAL_NAME = "journal.json"
CHECKS_NAME = "doctor.json"
"""`abhaya doctor --save`'s results (`checkfile.py`), kept in the same folder."""
FORMAT = 1


class Journal:
    """Undo records in the order their steps were applied, keyed by step key."""

    def __init__(self, host: Host, records: list[Undo] | None = None) -> None:
        self.host = host
        self.records: list[Undo] = list(records or [])

    @property
    def path(self) -> Path:
        return self.host.path(self.host.state_dir / JOURNAL_NAME)

    @classmethod
    def load(cls, host: Host) -> Journal:
        """The journal on `host`; an empty one when nothing was installed."""
        journal = cls(host)
        try:
            raw: Any = json.loads(journal.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return journal
        except (OSError, ValueError) as err:
            raise InstallError(f"cannot read the install journal {journal.path}: {err}") from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise InstallError(f"{journal.path} is not an install journal this version can read")
        journal.records = [Undo(**entry) for entry in raw["steps"]]
        return journal

    def find(self, key: str) -> Undo | None:
        return next((record for record in self.records if record.key == key), None)

    def put(self, record: Undo) -> None:
        """Record (or re-record) one applied step, and save at once."""
        self.records = [r for r in self.records if r.key != record.key] + [record]
        self.save()

    def drop(self, key: str) -> None:
        self.records = [r for r in self.records if r.key != key]
        self.save()

    def save(self) -> None:
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        temporary = path.with_suffix(".new")
        payload = {"format": FORMAT, "steps": [asdict(record) for record in self.records]}
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(payload, indent=1))
        os.replace(temporary, path)

    def remove(self) -> None:
        """After a complete uninstall: the journal and the state folder go too."""
        self.path.unlink(missing_ok=True)
        folder = self.path.parent
        (folder / CHECKS_NAME).unlink(missing_ok=True)  # the last saved checks: the install's
        originals = folder / "originals"
        for leftover in (originals, folder):
            # Not empty: an original that could not be put back stays, and is reported.
            with contextlib.suppress(OSError):
                leftover.rmdir()
