"""The system trust store of Debian and Ubuntu: a certificate in /usr/local/share/ca-certificates
becomes part of /etc/ssl/certs and its bundle (read by OpenSSL, GnuTLS, curl, Python, ...) once
`update-ca-certificates` runs, which also tells its hooks (Java's keystore, from
ca-certificates-java) "+/etc/ssl/certs/abhaya-ca.pem".

Taking it out is not symmetric.  Run plainly after the file is removed, the tool rebuilds the
bundle without it but leaves its links dangling and tells the hooks nothing; with `--fresh` it
rebuilds every other certificate's links too (a machine's own hand-made entries included) and
still tells the hooks nothing, so Java keeps trusting the CA (both seen on Debian 12).  So the
undo removes Abhaya's own two links, rebuilds the bundle plainly, and gives every hook the
removal line the tool itself would have given."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import ClassVar

from abhaya.installer.ca.copy import CopyFile, copy_file
from abhaya.installer.host import Host
from abhaya.installer.steps import Argv, Undo, WriteFile

UPDATE = ("update-ca-certificates",)
HOOKS = PurePosixPath("/etc/ca-certificates/update.d")
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
        "--hooksdir", str(host.path(HOOKS)),
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
        """The file removed (or the machine's own put back), Abhaya's links removed, the bundle
        rebuilt, and the hooks told."""
        path = PurePosixPath(str(record.data["path"]))
        WriteFile.undo(host, replace(record, data={**record.data, "after": []}))
        restored = host.path(path).exists()  # the machine had its own file there: it stays
        removed = [] if restored else _remove_links(host, path)
        host.run(update_argv(host, path.parent))
        hooks = host.path(HOOKS)
        if not removed or not hooks.is_dir():
            return
        lines = "".join(f"-{host.path(BUNDLE.parent / name)}\n" for name in removed)
        for hook in sorted(hooks.iterdir()):
            if hook.is_file() and os.access(hook, os.X_OK):
                host.run((str(hook),), input_text=lines)


def _remove_links(host: Host, path: PurePosixPath) -> list[str]:
    """Remove the store's link to `path` (`NAME.pem`, as update-ca-certificates names it) and
    the hash links to that name; return the names of the links to NAME.pem that were there."""
    folder = host.path(BUNDLE.parent)
    name = f"{path.stem}.pem"
    link = folder / name
    if not link.is_symlink() or os.readlink(link) != str(host.path(path)):
        return []
    link.unlink()
    for entry in folder.iterdir():
        if entry.is_symlink() and os.readlink(entry) == name:
            entry.unlink()
    return [name]
