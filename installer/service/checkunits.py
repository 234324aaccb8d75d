"""`abhaya doctor --save` on a timer, as root, so the parent console's dashboard shows the
computer's problems (a firewall flushed by another tool, a browser policy removed) within
15 minutes, with their fixes; the console itself runs as the parent and could not look."""

from __future__ import annotations

from pathlib import PurePosixPath

from abhaya.installer.service.unit import exec_line
from abhaya.installer.settings import InstallSettings
from abhaya.installer.steps import RunCommand, Step, WriteFile

CHECK_SERVICE = "abhaya-doctor.service"
CHECK_TIMER = "abhaya-doctor.timer"
UNITS = PurePosixPath("/etc/systemd/system")
EVERY = "15min"


def check_service_text(settings: InstallSettings) -> str:
    return f"""\
[Unit]
Description=Abhaya: check that this computer is protected, for the parent console
After=abhaya.service

[Service]
Type=oneshot
ExecStart={exec_line([*settings.program, "doctor", "--save"])}
# Problems found are the result, not a failure of this unit.
SuccessExitStatus=1
"""


TIMER_TEXT = f"""\
[Unit]
Description=Abhaya: check this computer every {EVERY}

[Timer]
OnBootSec=2min
OnUnitActiveSec={EVERY}

[Install]
WantedBy=timers.target
"""


def check_steps(settings: InstallSettings, reload: tuple[str, ...]) -> list[Step]:
    return [
        WriteFile(
            UNITS / CHECK_SERVICE,
            check_service_text(settings).encode("utf-8"),
            "Install the unit that runs `abhaya doctor --save` (as root: the checks need it)",
            after=(reload,),
        ),
        WriteFile(
            UNITS / CHECK_TIMER,
            TIMER_TEXT.encode("utf-8"),
            f"Run those checks 2 minutes after boot and every {EVERY}",
            after=(reload,),
        ),
        RunCommand(
            "enable-checks",
            ("systemctl", "enable", "--now", CHECK_TIMER),
            "Start the checks' timer now and at every boot",
            undo_argv=("systemctl", "disable", "--now", CHECK_TIMER),
        ),
    ]
