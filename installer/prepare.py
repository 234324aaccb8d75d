"""Turning `abhaya install`'s options and the policy into `InstallSettings`, refusing early
what would only fail later: an invalid policy, a parent account that does not exist, a program
the service's account cannot read."""

from __future__ import annotations

import os
import platform
import pwd
import stat
import sys
from pathlib import Path

import tomlkit
from tomlkit.items import AoT

from abhaya.filters.policy.compile import compile_policy
from abhaya.filters.policy.load import default_policy_path, read_policy
from abhaya.filters.policy.model import Policy
from abhaya.installer.host import InstallError
from abhaya.installer.settings import InstallSettings, TargetOS

LIST_TABLES = ("blocklist", "allowlist", "keywords", "hashlist")
"""The policy's arrays of tables whose `path` is relative to the policy file's folder."""


def this_os() -> TargetOS:
    system = platform.system()
    if system == "Windows":
        return TargetOS.WINDOWS
    if system == "Darwin":
        return TargetOS.MACOS
    return TargetOS.LINUX


def program_argv() -> tuple[str, ...]:
    """How the service starts this very installation of Abhaya."""
    script = Path(sys.executable).parent / "abhaya"
    if script.exists():
        return (str(script),)
    return (sys.executable, "-m", "abhaya.agent.cli")


def settings_for(
    target: TargetOS, policy_file: Path | None, program: tuple[str, ...] | None = None
) -> InstallSettings:
    """The settings of an install with `policy_file` (None: the embedded default policy).

    The policy is read and compiled here (lists included), so an install never starts a
    service that would refuse its own policy; list paths are made absolute, since the policy
    is copied into the config folder and its lists stay where they are."""
    if policy_file is None:
        policy = read_policy(default_policy_path())
        text = None
    else:
        source = policy_file.expanduser().absolute()
        policy = read_policy(source)
        compile_policy(policy, source)
        text = _absolute_list_paths(source)
    return InstallSettings(
        target=target,
        program=program or program_argv(),
        policy_text=text,
        unfiltered_accounts=policy.device.unfiltered_accounts,
        private_browsing=_private_browsing(policy),
    )


def _private_browsing(policy: Policy) -> bool:
    """Browser policies are machine-wide: one profile that turns private windows off is
    enough to turn them off for everyone."""
    return all(profile.private_browsing for profile in policy.profiles.values())


def _absolute_list_paths(source: Path) -> str:
    document = tomlkit.parse(source.read_text(encoding="utf-8-sig"))
    for table_name in LIST_TABLES:
        tables = document.get(table_name)
        if not isinstance(tables, AoT):
            continue
        for table in tables:
            path = Path(str(table["path"]))
            if not path.is_absolute():
                table["path"] = str((source.parent / path).resolve())
    return tomlkit.dumps(document)


def check_accounts(settings: InstallSettings) -> None:
    """Every unfiltered account must exist: the routing rules name them."""
    missing = []
    for name in settings.unfiltered_accounts:
        try:
            pwd.getpwnam(name)
        except KeyError:
            missing.append(name)
    if missing:
        raise InstallError(
            "the policy's [device] unfiltered_accounts names accounts this computer does not "
            f"have: {', '.join(missing)}"
        )


def check_readable_by_service(settings: InstallSettings) -> None:
    """The service runs as its own account, so every folder on the way to the program and to
    Abhaya's package must be open to other accounts (a venv under /root is not)."""
    import abhaya.agent

    targets = [Path(os.path.realpath(settings.program[0]))]
    targets += [Path(os.path.realpath(abhaya.agent.__file__))]
    if settings.program[0] != sys.executable:
        targets.append(Path(os.path.realpath(sys.executable)))
    for target in targets:
        for folder in target.parents:
            mode = folder.stat().st_mode
            if not mode & stat.S_IXOTH:
                raise InstallError(
                    f"the agent's account cannot reach {target}: {folder} is closed to other "
                    "accounts. Install Abhaya where every account can read it, for example:\n"
                    "  sudo python3 -m venv /opt/abhaya\n"
                    "  sudo /opt/abhaya/bin/pip install /path/to/abhaya\n"
                    "  sudo /opt/abhaya/bin/abhaya install"
                )
