"""GNOME's system proxy (which GNOME programs and Chromium-based browsers follow), set in the
system dconf database and locked, so an account cannot switch it off in Settings.

dconf reads the system database only when `/etc/dconf/profile/user` names it
(`system-db:local`); that file is made when missing and otherwise left as it is (`checks`
says when it does not name the database).  The compiled database is rebuilt with
`dconf update` after writing and after removing, and removed on uninstall if the install made
it and nothing else is in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import ClassVar

from abhaya.installer.host import Host
from abhaya.installer.steps import JsonValue, Undo, WriteFile

DB_DIR = PurePosixPath("/etc/dconf/db")
KEYFILE = DB_DIR / "local.d" / "00-abhaya-proxy"
LOCKS = DB_DIR / "local.d" / "locks" / "00-abhaya-proxy"
COMPILED = DB_DIR / "local"
PROFILE = PurePosixPath("/etc/dconf/profile/user")
PROFILE_TEXT = "user-db:user\nsystem-db:local\n"


def keyfile_text(host: str, port: int) -> str:
    return f"""\
# Abhaya: programs use the filtering agent as their web proxy (written by `abhaya install`).
[system/proxy]
mode='manual'
ignore-hosts=['localhost', '127.0.0.0/8', '::1']

[system/proxy/http]
host='{host}'
port={port}

[system/proxy/https]
host='{host}'
port={port}
"""


LOCKED_KEYS = (
    "/system/proxy/mode",
    "/system/proxy/ignore-hosts",
    "/system/proxy/http/host",
    "/system/proxy/http/port",
    "/system/proxy/https/host",
    "/system/proxy/https/port",
)


def locks_text() -> str:
    return "\n".join(LOCKED_KEYS) + "\n"


def profile_names_local(text: str) -> bool:
    return any(line.strip() == "system-db:local" for line in text.splitlines())


@dataclass(frozen=True, slots=True)
class GnomeProxy:
    """The key file and its locks, written together and compiled with `dconf update`."""

    kind: ClassVar[str] = "dconf-proxy"
    host: str
    port: int

    @property
    def key(self) -> str:
        return f"dconf-proxy:{KEYFILE}"

    def _files(self) -> list[WriteFile]:
        return [
            WriteFile(KEYFILE, keyfile_text(self.host, self.port).encode(), ""),
            WriteFile(LOCKS, locks_text().encode(), ""),
        ]

    def describe(self) -> list[str]:
        lines = ["Set GNOME's system proxy to the agent and lock it (dconf)"]
        for file in self._files():
            lines += file.describe()[1:]
        lines.append(f"  then run: dconf update {DB_DIR}")
        return lines

    def apply(self, host: Host, previous: Undo | None) -> Undo:
        before = previous.data if previous else None
        created = bool(before["created"]) if before else not host.path(COMPILED).exists()
        records: list[JsonValue] = []
        for index, file in enumerate(self._files()):
            earlier = _nested(before, index)
            records.append(file.apply(host, earlier).data)
        host.run(("dconf", "update", str(host.path(DB_DIR))))
        return Undo(
            self.kind,
            self.key,
            f"remove GNOME's proxy settings ({KEYFILE}) and update dconf",
            {"files": records, "created": created},
        )

    @classmethod
    def undo(cls, host: Host, record: Undo) -> None:
        files = record.data.get("files")
        assert isinstance(files, list)
        for data in files:
            assert isinstance(data, dict)
            WriteFile.undo(host, Undo(WriteFile.kind, f"file:{data['path']}", "", data))
        keyfiles = host.path(KEYFILE.parent)
        if record.data.get("created") and not any(p.is_file() for p in keyfiles.glob("*")):
            host.path(COMPILED).unlink(missing_ok=True)
        elif keyfiles.is_dir():
            host.run(("dconf", "update", str(host.path(DB_DIR))))


def _nested(before: dict[str, JsonValue] | None, index: int) -> Undo | None:
    if before is None:
        return None
    files = before.get("files")
    if not isinstance(files, list) or index >= len(files):
        return None
    data = files[index]
    assert isinstance(data, dict)
    return Undo(WriteFile.kind, f"file:{data['path']}", "", data)


@dataclass(frozen=True, slots=True)
class DconfProfile:
    """`/etc/dconf/profile/user`, made only when missing (an existing one is the machine's)."""

    kind: ClassVar[str] = "dconf-profile"

    @property
    def key(self) -> str:
        return f"dconf-profile:{PROFILE}"

    def describe(self) -> list[str]:
        return [
            "Make dconf read the system database, if no dconf profile exists yet",
            f"  write {PROFILE} only if it is missing (an existing one is left as it is)",
            *[f"  | {line}" for line in PROFILE_TEXT.splitlines()],
        ]

    def apply(self, host: Host, previous: Undo | None) -> Undo:
        target = host.path(PROFILE)
        made = bool(previous.data.get("made")) if previous is not None else not target.exists()
        if made and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(PROFILE_TEXT)
            target.chmod(0o644)
        verb = "remove" if made else "leave"
        return Undo(self.kind, self.key, f"{verb} {PROFILE}", {"made": made})

    @classmethod
    def undo(cls, host: Host, record: Undo) -> None:
        if record.data.get("made"):
            host.path(PROFILE).unlink(missing_ok=True)
