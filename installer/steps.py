"""The steps a plan is made of, and the record each leaves for undoing it.

A step describes itself (`describe`: a sentence, then the exact file or command), applies
itself to a `Host`, and returns an `Undo` record: plain JSON data that is enough to undo it
later, even after the policy or the program changed.  Undoing is a class method looked up by
the record's `kind` (`registry.py`), so `abhaya uninstall` needs the journal, not the plan.

Every step is idempotent: applying it twice leaves what applying it once does, and undoing
something already undone (a file already gone) succeeds.  Re-applying a step keeps the record
of the first install (`previous`), so the original of a replaced file is never overwritten by
Abhaya's own copy.
"""

from __future__ import annotations

import contextlib
import grp
import hashlib
import os
import pwd
import shlex
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import ClassVar, Protocol

from abhaya.installer.host import Host, InstallError

JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]
Argv = tuple[str, ...]
SHOWN_LINES = 40
"""Files up to this many lines are printed whole in a dry run; longer ones by size."""


@dataclass(frozen=True, slots=True)
class Undo:
    """What the journal keeps of one applied step."""

    kind: str
    """The step class that can undo it (its `kind`)."""
    key: str
    summary: str
    """Words for `abhaya uninstall`'s output ("remove /etc/abhaya/policy.toml")."""
    data: dict[str, JsonValue] = field(default_factory=dict)


class Step(Protocol):
    kind: ClassVar[str]

    @property
    def key(self) -> str:
        """Unique within a plan: a second install finds its first record by it."""
        ...

    def describe(self) -> list[str]:
        """A sentence, then indented lines with the exact files and commands."""
        ...

    def apply(self, host: Host, previous: Undo | None) -> Undo: ...

    @classmethod
    def undo(cls, host: Host, record: Undo) -> None: ...


def owner_ids(user: str | None, group: str | None) -> tuple[int, int]:
    try:
        uid = -1 if user is None else pwd.getpwnam(user).pw_uid
        gid = -1 if group is None else grp.getgrnam(group).gr_gid
    except KeyError as err:
        raise InstallError(f"no such account or group: {err.args[0]}") from None
    return uid, gid


def _run_all(host: Host, commands: Sequence[Argv]) -> None:
    for argv in commands:
        host.run(argv)


@dataclass(frozen=True, slots=True)
class WriteFile:
    """A file with fixed content.  A file that was there before is kept in the state folder and
    put back on undo; `after` commands run after writing and again after undoing (to refresh a
    trust store or reload a service manager from the folder the file is in)."""

    kind: ClassVar[str] = "file"
    path: PurePosixPath
    content: bytes
    why: str
    mode: int = 0o644
    owner: str | None = None
    group: str | None = None
    after: tuple[Argv, ...] = ()
    show: bool = True
    """Print the content in a dry run (False for certificates and other opaque files)."""

    @property
    def key(self) -> str:
        return f"file:{self.path}"

    @property
    def tools(self) -> tuple[str, ...]:
        return tuple(argv[0] for argv in self.after)

    def describe(self) -> list[str]:
        owner = f", owner {self.owner or 'root'}:{self.group or self.owner or 'root'}"
        lines = [self.why, f"  write {self.path} (mode {self.mode:04o}{owner})"]
        text = self.content.decode("utf-8", errors="replace").splitlines()
        if self.show and len(text) <= SHOWN_LINES:
            lines += [f"  | {line}" for line in text]
        else:
            lines.append(f"  | ({len(self.content)} bytes)")
        lines += [f"  then run: {shlex.join(argv)}" for argv in self.after]
        return lines

    def apply(self, host: Host, previous: Undo | None) -> Undo:
        target = host.path(self.path)
        record = previous or Undo(
            self.kind,
            self.key,
            f"remove {self.path}",
            {"path": str(self.path), "backup": None, "after": [list(a) for a in self.after]},
        )
        if previous is None and target.exists():
            backup = _backup_path(host, self.path)
            backup.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            backup.write_bytes(target.read_bytes())
            os.chmod(backup, target.stat().st_mode & 0o7777)
            record = Undo(
                self.kind,
                self.key,
                f"put back the original {self.path}",
                {**record.data, "backup": str(backup)},
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.abhaya-new")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, self.mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(self.content)
        os.chmod(temporary, self.mode)
        if self.owner is not None or self.group is not None:
            os.chown(temporary, *owner_ids(self.owner, self.group or self.owner))
        os.replace(temporary, target)
        _run_all(host, self.after)
        return record

    @classmethod
    def undo(cls, host: Host, record: Undo) -> None:
        target = host.path(str(record.data["path"]))
        backup = record.data.get("backup")
        if isinstance(backup, str) and os.path.exists(backup):
            os.replace(backup, target)
        else:
            target.unlink(missing_ok=True)
        after = record.data.get("after") or []
        assert isinstance(after, list)
        _run_all(
            host, [tuple(str(part) for part in argv) for argv in after if isinstance(argv, list)]
        )


def _backup_path(host: Host, path: PurePosixPath) -> Path:
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
    return host.path(host.state_dir / "originals" / f"{digest}-{path.name}")


@dataclass(frozen=True, slots=True)
class MakeDir:
    """A folder with a mode and an owner; removed on undo only if the install made it and it is
    empty by then (a folder the machine had, or one someone put files in, stays)."""

    kind: ClassVar[str] = "folder"
    path: PurePosixPath
    why: str
    mode: int = 0o755
    owner: str | None = None
    group: str | None = None
    remove_contents: bool = False
    """On undo, remove what is inside too (the agent's data folder: its CA key, its store)."""

    @property
    def key(self) -> str:
        return f"folder:{self.path}"

    def describe(self) -> list[str]:
        owner = f", owner {self.owner or 'root'}:{self.group or self.owner or 'root'}"
        return [self.why, f"  make folder {self.path} (mode {self.mode:04o}{owner})"]

    def apply(self, host: Host, previous: Undo | None) -> Undo:
        target = host.path(self.path)
        created = previous.data.get("created") if previous else not target.exists()
        target.mkdir(parents=True, exist_ok=True)
        os.chmod(target, self.mode)
        if self.owner is not None or self.group is not None:
            os.chown(target, *owner_ids(self.owner, self.group or self.owner))
        verb = "remove" if created else "leave"
        return Undo(
            self.kind,
            self.key,
            f"{verb} folder {self.path}",
            {"path": str(self.path), "created": bool(created), "contents": self.remove_contents},
        )

    @classmethod
    def undo(cls, host: Host, record: Undo) -> None:
        if not record.data.get("created"):
            return
        target = host.path(str(record.data["path"]))
        if not target.exists():
            return
        if record.data.get("contents"):
            shutil.rmtree(target)
            return
        with contextlib.suppress(OSError):  # someone put files there: theirs, not the install's
            target.rmdir()


@dataclass(frozen=True, slots=True)
class RunCommand:
    """A command, with the command that undoes it (none: nothing to undo).  `done_if` is a
    command whose success means the change is already made, so applying twice runs it once;
    `undone_if` likewise for undoing."""

    kind: ClassVar[str] = "command"
    name: str
    """Unique in the plan: the journal finds the step by it."""
    argv: Argv
    why: str
    undo_argv: Argv | None = None
    done_if: Argv | None = None
    undone_if: Argv | None = None

    @property
    def key(self) -> str:
        return f"command:{self.name}"

    @property
    def tools(self) -> tuple[str, ...]:
        commands = (self.argv, self.undo_argv, self.done_if, self.undone_if)
        return tuple(argv[0] for argv in commands if argv)

    def describe(self) -> list[str]:
        lines = [self.why, f"  run: {shlex.join(self.argv)}"]
        if self.undo_argv is not None:
            lines.append(f"  (undone by: {shlex.join(self.undo_argv)})")
        return lines

    def apply(self, host: Host, previous: Undo | None) -> Undo:
        if self.done_if is None or host.run(self.done_if, check=False).returncode != 0:
            host.run(self.argv)
        undo: JsonValue = list(self.undo_argv) if self.undo_argv is not None else None
        undone_if: JsonValue = list(self.undone_if) if self.undone_if else None
        summary = f"run: {shlex.join(self.undo_argv)}" if self.undo_argv else "nothing to undo"
        return Undo(
            self.kind,
            self.key,
            summary,
            {"argv": undo, "undone_if": undone_if},
        )

    @classmethod
    def undo(cls, host: Host, record: Undo) -> None:
        argv = record.data.get("argv")
        if not isinstance(argv, list):
            return
        undone_if = record.data.get("undone_if")
        if (
            isinstance(undone_if, list)
            and host.run([str(a) for a in undone_if], check=False).returncode == 0
        ):
            return
        host.run([str(a) for a in argv])


@dataclass(frozen=True, slots=True)
class SystemUser:
    """The agent's own system account (no login, no home), made by the install and removed by
    the uninstall only if the install made it."""

    kind: ClassVar[str] = "account"
    name: str
    why: str
    home: PurePosixPath = PurePosixPath("/nonexistent")

    @property
    def key(self) -> str:
        return f"account:{self.name}"

    @property
    def tools(self) -> tuple[str, ...]:
        return ("useradd", "userdel")

    def describe(self) -> list[str]:
        return [self.why, f"  run: {shlex.join(self._useradd())}"]

    def _useradd(self) -> Argv:
        return (
            "useradd", "--system", "--user-group", "--no-create-home",
            "--home-dir", str(self.home), "--shell", "/usr/sbin/nologin",
            "--comment", "Abhaya filtering agent", self.name,
        )  # fmt: skip

    def apply(self, host: Host, previous: Undo | None) -> Undo:
        try:
            pwd.getpwnam(self.name)
            created = bool(previous.data.get("created")) if previous else False
        except KeyError:
            host.run(self._useradd())
            created = True
        verb = "remove" if created else "leave"
        return Undo(
            self.kind,
            self.key,
            f"{verb} account {self.name}",
            {"name": self.name, "created": created},
        )

    @classmethod
    def undo(cls, host: Host, record: Undo) -> None:
        name = str(record.data["name"])
        if not record.data.get("created"):
            return
        try:
            pwd.getpwnam(name)
        except KeyError:
            return
        host.run(("userdel", name))
        try:
            grp.getgrnam(name)
        except KeyError:
            return
        host.run(("groupdel", name))
