"""Shared helpers for the installer's tests: a scratch root to install into, a snapshot that
tells whether an uninstall left it as it was, and throwaway OS accounts (as root only)."""

from __future__ import annotations

import contextlib
import grp
import hashlib
import os
import pwd
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from abhaya.installer.base import Concern
from abhaya.installer.host import Host
from abhaya.installer.plan import Plan, Section
from abhaya.installer.settings import InstallSettings

needs_root = pytest.mark.skipif(
    os.geteuid() != 0,
    reason="makes OS accounts and changes system state: run as root (CI does)",
)

Snapshot = dict[str, tuple[int, int, int, str]]


def snapshot(root: Path) -> Snapshot:
    """Every path under `root` with its mode, owner, group and content hash."""
    seen: Snapshot = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        seen[str(path.relative_to(root))] = (info.st_mode, info.st_uid, info.st_gid, digest)
    return seen


@pytest.fixture
def scratch(tmp_path: Path) -> Host:
    """A Host whose files live under a scratch root (commands still run for real).  The root
    has /etc and /var/lib, as every machine does."""
    root = tmp_path / "root"
    (root / "var" / "lib").mkdir(parents=True)
    (root / "etc").mkdir()
    return Host(root=root)


@contextlib.contextmanager
def os_account(name: str, *, system: bool = True) -> Iterator[pwd.struct_passwd]:
    """An OS account made for one test and removed after it, whatever happens."""
    kind = ["--system"] if system else ["--create-home"]
    subprocess.run(["useradd", *kind, "--user-group", name], check=True)
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", "--remove", name], check=False, capture_output=True)
        with contextlib.suppress(KeyError):
            grp.getgrnam(name)
            subprocess.run(["groupdel", name], check=False)


def account_name() -> str:
    """A short account name unique to this test process (useradd allows 32 characters)."""
    return f"abh-t{os.getpid() % 100000}"


def concern_plan(concern: Concern, settings: InstallSettings) -> Plan:
    """One concern's steps as a plan of their own (a backend's plan mixes every concern)."""
    return Plan((Section(concern.title, tuple(concern.steps(settings))),))
