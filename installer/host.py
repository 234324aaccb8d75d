"""The machine an install acts on: its files (under a root folder) and its commands.

Every step touches the machine only through a `Host`, so a test can point file steps at a
scratch folder (`root`) while commands still run for real, and a plan for another OS is only
ever described, never applied.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath


class InstallError(Exception):
    """A step could not be done; the message says which and why, in words."""


@dataclass(frozen=True, slots=True)
class Host:
    """Files under `root` (the real `/` in production), commands run with `environment` added."""

    root: Path = Path("/")
    environment: Mapping[str, str] = field(default_factory=dict)
    command_timeout: float = 120.0
    state_dir: PurePosixPath = PurePosixPath("/var/lib/abhaya-install")
    """The install's own records: the journal and the originals of files it replaced."""
    euid: Callable[[], int] = os.geteuid
    """Who runs the command (0: root); a test names an ordinary account here, since the suite
    runs as root and another account may not be able to read this checkout."""

    def path(self, target: PurePosixPath | str) -> Path:
        """Where an absolute path of the plan lives on this host."""
        relative = PurePosixPath(target).relative_to("/")
        return self.root / relative

    def run(
        self, argv: Sequence[str], *, input_text: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run a command; with `check`, a failure raises InstallError with its output."""
        try:
            done = subprocess.run(
                list(argv),
                input=input_text,
                capture_output=True,
                text=True,
                timeout=self.command_timeout,
                env={**os.environ, **self.environment},
                check=False,
            )
        except FileNotFoundError:
            raise InstallError(f"`{argv[0]}` is not installed on this computer") from None
        except subprocess.TimeoutExpired:
            raise InstallError(
                f"`{shlex.join(argv)}` did not finish within {self.command_timeout:.0f} s"
            ) from None
        if check and done.returncode != 0:
            said = (done.stderr or done.stdout).strip().splitlines()
            reason = said[-1] if said else f"exit status {done.returncode}"
            raise InstallError(f"`{shlex.join(argv)}` failed: {reason}")
        return done
