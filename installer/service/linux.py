"""The agent as a systemd service on Linux: the unit, enabled and started, and a wait until it
filters.  See `unit.py` for what the unit says and why."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from abhaya.installer.base import Check
from abhaya.installer.host import Host, InstallError
from abhaya.installer.service.checkunits import check_steps
from abhaya.installer.service.unit import UNIT_NAME, UNIT_PATH, unit_text
from abhaya.installer.service.wait import WaitForProxy, proxy_answers
from abhaya.installer.settings import InstallSettings
from abhaya.installer.steps import RunCommand, Step, WriteFile

RELOAD = ("systemctl", "daemon-reload")
SYSTEMD_RUNNING = "/run/systemd/system"
"""Present when systemd is the init system (sd_booted(3))."""


@dataclass(frozen=True, slots=True)
class ServiceLinux:
    title: str = "The agent as a system service"
    wait_seconds: float = 20.0

    def steps(self, settings: InstallSettings) -> list[Step]:
        return [
            WriteFile(
                PurePosixPath(UNIT_PATH),
                unit_text(settings).encode("utf-8"),
                f"Install the systemd unit that runs the agent as {settings.service_user}, "
                "restarts it at once when it stops and sandboxes it",
                after=(RELOAD,),
            ),
            RunCommand(
                "enable-service",
                ("systemctl", "enable", UNIT_NAME),
                "Start the agent at every boot",
                undo_argv=("systemctl", "disable", "--now", UNIT_NAME),
            ),
            RunCommand(
                "restart-service",
                ("systemctl", "restart", UNIT_NAME),
                "Start the agent now (restarted if it ran, so a changed unit or policy applies)",
            ),
            WaitForProxy(settings.proxy_address, UNIT_NAME, self.wait_seconds),
            *check_steps(settings, RELOAD),
        ]

    def checks(self, settings: InstallSettings, host: Host) -> list[Check]:
        return [
            _unit_check(settings, host),
            *_systemd_checks(host),
            _proxy_check(settings),
        ]


def _unit_check(settings: InstallSettings, host: Host) -> Check:
    path = host.path(UNIT_PATH)
    name = f"the service's unit {UNIT_PATH} is as the install wrote it"
    try:
        found = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Check(name, False, f"{UNIT_PATH} is missing", "run `sudo abhaya install` again")
    except (OSError, UnicodeDecodeError) as error:
        return Check(name, False, f"cannot read {UNIT_PATH}: {error}", "run `sudo abhaya install`")
    if found != unit_text(settings):
        return Check(
            name,
            False,
            f"{UNIT_PATH} was changed after the install",
            "run `sudo abhaya install` again to put it back (edits belong in the policy)",
        )
    return Check(name, True)


def _systemd_checks(host: Host) -> list[Check]:
    if not host.path(SYSTEMD_RUNNING).is_dir():
        return [
            Check(
                "systemd runs this computer's services",
                False,
                "systemd is not the init system here, so the service cannot run",
                "use a Debian or Ubuntu install booted with systemd, or run `abhaya run` "
                "another way",
            )
        ]
    checks = []
    for verb, wanted, fix in (
        ("is-enabled", "enabled", f"run `sudo systemctl enable {UNIT_NAME}`"),
        (
            "is-active",
            "active",
            f"run `sudo systemctl start {UNIT_NAME}`; if it stops again, "
            f"`journalctl -u {UNIT_NAME} -n 30` says why",
        ),
    ):
        try:
            said = host.run(("systemctl", verb, UNIT_NAME), check=False).stdout.strip()
        except InstallError as error:
            said = str(error)
        checks.append(
            Check(f"the service is {wanted}", said == wanted, f"systemctl {verb}: {said}", fix)
        )
    return checks


def _proxy_check(settings: InstallSettings) -> Check:
    answer = proxy_answers(settings.proxy_address)
    return Check(
        f"the agent's proxy answers on {settings.proxy_address}",
        answer is not None,
        answer or "nothing answered",
        f"run `sudo systemctl restart {UNIT_NAME}`; `journalctl -u {UNIT_NAME} -n 30` says "
        "why it is not running",
    )
