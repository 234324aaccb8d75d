"""The settings of the install in force, kept beside the journal so `abhaya doctor` checks
the machine against what was installed (not against today's options)."""

from __future__ import annotations

import json
from dataclasses import asdict, fields, replace
from pathlib import PurePosixPath
from typing import Any

from abhaya.installer.host import Host, InstallError
from abhaya.installer.settings import InstallSettings, TargetOS
from abhaya.installer.steps import WriteFile

RECORD_NAME = "settings.json"


def record_step(settings: InstallSettings, host_state_dir: PurePosixPath) -> WriteFile:
    """The last step of every install: write the settings it was made from."""
    raw = {
        name: (str(value) if isinstance(value, PurePosixPath) else value)
        for name, value in asdict(settings).items()
    }
    # The policy itself is in the config folder; the record only says whether one was
    # installed, so it can be readable by every account (the console runs the same checks).
    raw["policy_text"] = None if settings.policy_text is None else ""
    return WriteFile(
        host_state_dir / RECORD_NAME,
        json.dumps(raw, indent=1).encode("utf-8"),
        "Record what was installed, for `abhaya doctor` and `abhaya uninstall`",
        mode=0o644,
        show=False,
    )


def read_record(host: Host) -> InstallSettings | None:
    """The recorded settings; None when Abhaya is not installed on this host."""
    path = host.path(host.state_dir / RECORD_NAME)
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        raise InstallError(f"cannot read the install record {path}: {err}") from None
    values: dict[str, Any] = {}
    for item in fields(InstallSettings):
        if item.name not in raw:
            continue
        value = raw[item.name]
        if item.name == "target":
            value = TargetOS(value)
        elif item.type in ("PurePosixPath",):
            value = PurePosixPath(value)
        elif isinstance(value, list):
            value = tuple(value)
        values[item.name] = value
    try:
        settings = InstallSettings(**values)
    except TypeError as err:
        raise InstallError(f"the install record {path} is incomplete: {err}") from None
    return _with_installed_policy(host, settings)


def _with_installed_policy(host: Host, settings: InstallSettings) -> InstallSettings:
    """The record only says a policy was installed; where root can read it, the policy in
    force is put back, so what depends on it (the unit's view of home folders) is checked
    against the real file."""
    if settings.policy_path is None:
        return settings
    try:
        text = host.path(settings.policy_path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return settings
    return replace(settings, policy_text=text)
