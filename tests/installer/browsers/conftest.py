"""A scratch root with the top folders a Debian machine has, and a way to see all of it."""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath

import pytest

from abhaya.installer.host import Host
from abhaya.installer.settings import InstallSettings, TargetOS


@pytest.fixture
def host(tmp_path: Path) -> Host:
    root = tmp_path / "root"
    for folder in ("etc", "var/lib", "usr/local/share/ca-certificates"):
        (root / folder).mkdir(parents=True)
    return Host(root=root, state_dir=PurePosixPath("/var/lib/abhaya-install"))


def settings(*, private_browsing: bool = True, port: int = 8080) -> InstallSettings:
    return InstallSettings(
        TargetOS.LINUX, ("abhaya",), listen_port=port, private_browsing=private_browsing
    )


def snapshot(root: Path) -> dict[str, str]:
    """Every folder and file under `root`, files with their SHA-256 and mode."""
    seen: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        name = str(path.relative_to(root))
        if path.is_dir():
            seen[name] = f"folder {path.stat().st_mode & 0o7777:04o}"
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            seen[name] = f"{digest} {path.stat().st_mode & 0o7777:04o}"
    return seen
