"""The agent as a launchd daemon on macOS, as a plan: its own role account `_abhaya`, and
/Library/LaunchDaemons/in.abhaya.agent.plist loaded into the system domain.

`KeepAlive` restarts the agent whenever it exits; launchd waits `ThrottleInterval` seconds
between starts (10 by default; 1 here, so a killed agent is back within about 2 s).  The
account is a role account (name starting with `_`, id 200-400, no shell, no home), made with
`dscl` on the first free id in that range; uninstall deletes it if the install made it.
"""

from __future__ import annotations

import plistlib
from dataclasses import dataclass
from pathlib import PurePosixPath

from abhaya.installer.base import Check
from abhaya.installer.host import Host
from abhaya.installer.service.unit import ENVIRONMENT
from abhaya.installer.settings import InstallSettings
from abhaya.installer.steps import RunCommand, Step, WriteFile

LABEL = "in.abhaya.agent"
PLIST_PATH = PurePosixPath(f"/Library/LaunchDaemons/{LABEL}.plist")
ACCOUNT = "_abhaya"
LOG_DIR = PurePosixPath("/Library/Logs/Abhaya")
THROTTLE_SECONDS = 1

_MAKE_ACCOUNT = """\
set -e
name="$1"
id=200
while [ "$id" -le 400 ]; do
  if ! dscl . -search /Users UniqueID "$id" | grep -q . && \\
     ! dscl . -search /Groups PrimaryGroupID "$id" | grep -q .; then break; fi
  id=$((id + 1))
done
[ "$id" -le 400 ] || { echo "no free id for $name in 200-400" >&2; exit 1; }
dscl . -create "/Groups/$name"
dscl . -create "/Groups/$name" PrimaryGroupID "$id"
dscl . -create "/Groups/$name" Password '*'
dscl . -create "/Groups/$name" RealName 'Abhaya filtering agent'
dscl . -create "/Users/$name"
dscl . -create "/Users/$name" UniqueID "$id"
dscl . -create "/Users/$name" PrimaryGroupID "$id"
dscl . -create "/Users/$name" UserShell /usr/bin/false
dscl . -create "/Users/$name" NFSHomeDirectory /var/empty
dscl . -create "/Users/$name" Password '*'
dscl . -create "/Users/$name" RealName 'Abhaya filtering agent'
dscl . -create "/Users/$name" IsHidden 1
"""


def daemon_plist(settings: InstallSettings) -> bytes:
    return plistlib.dumps(
        {
            "Label": LABEL,
            "ProgramArguments": list(settings.run_command),
            "UserName": ACCOUNT,
            "GroupName": ACCOUNT,
            "RunAtLoad": True,
            "KeepAlive": True,
            "ThrottleInterval": THROTTLE_SECONDS,
            "ProcessType": "Standard",
            "Umask": 0o077,
            "EnvironmentVariables": dict(ENVIRONMENT),
            "StandardOutPath": str(LOG_DIR / "agent.log"),
            "StandardErrorPath": str(LOG_DIR / "agent.log"),
        }
    )


@dataclass(frozen=True, slots=True)
class ServiceMacos:
    title: str = "The agent as a system daemon"

    def steps(self, settings: InstallSettings) -> list[Step]:
        target = f"system/{LABEL}"
        return [
            RunCommand(
                "account-_abhaya",
                ("/bin/sh", "-c", _MAKE_ACCOUNT, "make-account", ACCOUNT),
                f"Make the role account {ACCOUNT} that the agent runs as (no password, no "
                "shell, no home; the first free id from 200 to 400)",
                undo_argv=(
                    "/bin/sh",
                    "-c",
                    'dscl . -delete "/Users/$1"; dscl . -delete "/Groups/$1"',
                    "delete-account",
                    ACCOUNT,
                ),  # fmt: skip
                done_if=("dscl", ".", "-read", f"/Users/{ACCOUNT}"),
                undone_if=("/bin/sh", "-c", f"! dscl . -read /Users/{ACCOUNT}"),
            ),
            RunCommand(
                "log-folder",
                ("install", "-d", "-m", "0750", "-o", ACCOUNT, "-g", "admin", str(LOG_DIR)),
                "Make the agent's log folder",
                undo_argv=("rm", "-rf", str(LOG_DIR)),
            ),
            WriteFile(
                PLIST_PATH,
                daemon_plist(settings),
                f"Install the launchd daemon that runs the agent as {ACCOUNT} at boot and "
                "starts it again whenever it stops",
                owner="root",
                group="wheel",
            ),
            RunCommand(
                "bootstrap-daemon",
                ("launchctl", "bootstrap", "system", str(PLIST_PATH)),
                "Load the daemon and start the agent now",
                undo_argv=("launchctl", "bootout", target),
                done_if=("launchctl", "print", target),
                undone_if=("/bin/sh", "-c", f"! launchctl print {target}"),
            ),
        ]

    def checks(self, settings: InstallSettings, host: Host) -> list[Check]:
        return []
