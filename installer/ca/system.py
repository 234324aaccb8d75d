"""The system trust store of Debian and Ubuntu: a certificate in /usr/local/share/ca-certificates
becomes part of /etc/ssl/certs and its bundle (read by OpenSSL, GnuTLS, curl, Python, ...) once
`update-ca-certificates` runs.  After the file is removed it runs with `--fresh`, as Debian's
documentation says, so the certificate's links and its place in the bundle go too."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import ClassVar

from abhaya.installer.ca.copy import CopyFile, copy_file
from abhaya.installer.host import Host
from abhaya.installer.steps import Argv, Undo, WriteFile

UPDATE = ("update-ca-certificates", "--fresh")
BUNDLE = PurePosixPath("/etc/ssl/certs/ca-certificates.crt")


def update_argv(host: Host, local_dir: PurePosixPath) -> Argv:
    """The command as it runs on `host`: on a scratch root (tests), every folder it reads or
    writes is moved under that root with the tool's own options."""
    if host.root == Path("/"):
        return UPDATE
    return (
        *UPDATE,
        "--certsconf", str(host.path("/etc/ca-certificates.conf")),
        "--certsdir", str(host.path("/usr/share/ca-certificates")),
        "--localcertsdir", str(host.path(local_dir)),
        "--etccertsdir", str(host.path(BUNDLE.parent)),
        "--hooksdir", str(host.path("/etc/ca-certificates/update.d")),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class TrustInSystemStore:
    """The agent's certificate (read when applied) copied to `path`, in the system store's own
    folder, then the store rebuilt; undo removes it and rebuilds the store again."""

    kind: ClassVar[str] = "system-ca"
    source: PurePosixPath
    path: PurePosixPath
    why: str

    @property
    def _copy(self) -> CopyFile:
        return CopyFile(self.source, self.path, self.why, 0o644, (UPDATE,))

    @property
    def key(self) -> str:
        return self._copy.key

    def describe(self) -> list[str]:
        return self._copy.describe()

    def apply(self, host: Host, previous: Undo | None) -> Undo:
        record = copy_file(self._copy, host, previous, (update_argv(host, self.path.parent),))
        return Undo(self.kind, record.key, record.summary, record.data)

    @classmethod
    def undo(cls, host: Host, record: Undo) -> None:
        """As a written file: removed (or the machine's own put back), then the store rebuilt
        with the command kept in the record."""
        WriteFile.undo(host, record)
