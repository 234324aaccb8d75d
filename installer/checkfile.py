"""The last `abhaya doctor --save` results, kept where every account can read them.

The checks need root (firewall rules, other accounts' certificate stores), and the parent
console runs as the parent: so root runs them (after an install, and on a timer) and saves the
results here, and the console's dashboard shows the failing ones with their fixes.  Nothing in
it is secret: check names, what was found, how to fix it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from abhaya.installer.base import Check
from abhaya.installer.journal import CHECKS_NAME

CHECKS_FILE = PurePosixPath("/var/lib/abhaya-install") / CHECKS_NAME


@dataclass(frozen=True, slots=True)
class SavedChecks:
    time: datetime
    checks: tuple[Check, ...]

    @property
    def problems(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if not check.ok)


def save_checks(path: Path, checks: list[Check], now: datetime) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".new")
    payload = {"time": now.isoformat(), "checks": [asdict(check) for check in checks]}
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(payload, indent=1))
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)


def read_checks(path: Path = Path(str(CHECKS_FILE))) -> SavedChecks | None:
    """The saved results; None when there are none (not installed) or they cannot be read
    (the dashboard then shows no install checks rather than guess)."""
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
        time = datetime.fromisoformat(raw["time"])
        checks = tuple(
            Check(str(c["name"]), bool(c["ok"]), str(c["detail"]), str(c["fix"]))
            for c in raw["checks"]
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if time.tzinfo is None:
        time = time.replace(tzinfo=UTC)
    return SavedChecks(time, checks)
