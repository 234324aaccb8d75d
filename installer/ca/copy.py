"""A copy of a file that exists only once the install runs (the agent's CA certificate, made
by an earlier step): read when applied, so a dry run never needs it, and undone as a written
file is (removed, or the machine's own file put back)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import PurePath, PurePosixPath
from typing import ClassVar

from abhaya.installer.host import Host, InstallError
from abhaya.installer.steps import Argv, Undo, WriteFile


@dataclass(frozen=True, slots=True)
class CopyFile:
    kind: ClassVar[str] = "copy"
    source: PurePath
    path: PurePath
    """A Windows path in a Windows plan (described only, never applied here)."""
    why: str
    mode: int = 0o644
    after: tuple[Argv, ...] = ()

    @property
    def key(self) -> str:
        return f"file:{self.path}"

    def describe(self) -> list[str]:
        return [
            self.why,
            f"  copy {self.source} to {self.path} (mode {self.mode:04o}, owner root:root)",
            *(f"  then run: {shlex.join(argv)}" for argv in self.after),
        ]

    def apply(self, host: Host, previous: Undo | None) -> Undo:
        return copy_file(self, host, previous, self.after)

    @classmethod
    def undo(cls, host: Host, record: Undo) -> None:
        WriteFile.undo(host, record)


def copy_file(step: CopyFile, host: Host, previous: Undo | None, after: tuple[Argv, ...]) -> Undo:
    """Write `step.source`'s bytes to `step.path` as a WriteFile (whose record and undo it
    shares), running `after` once written; the record keeps `step`'s kind."""
    if not isinstance(step.source, PurePosixPath) or not isinstance(step.path, PurePosixPath):
        raise InstallError(f"{step.path} is not a path of this computer")
    try:
        content = host.path(step.source).read_bytes()
    except OSError as err:
        raise InstallError(f"cannot read {step.source}: {err.strerror}") from None
    written = WriteFile(step.path, content, step.why, step.mode, after=after, show=False)
    record = written.apply(host, previous)
    return Undo(step.kind, step.key, record.summary, record.data)
