"""The agent at boot on Windows, as a plan: a scheduled task that runs as SYSTEM.

A Windows service needs the service control protocol (pywin32's `win32serviceutil`, or a
wrapper program); Abhaya has neither, so a boot-time scheduled task runs `abhaya run` instead.
The task is made from an XML definition (`schtasks /Create /XML`), not from `/SC ONSTART`
options: only the XML can say "restart on failure", "no time limit" (a task made on the
command line is stopped after 72 hours) and "also on battery" (by default a laptop on battery
would not start it, and would stop it when unplugged).

Limits, stated to the parent in the README: Task Scheduler restarts a failed task at most once
a minute (its smallest RestartOnFailure interval), not within 2 s as systemd does, and only
counts a failure it sees; the routing concern's firewall rules keep the web blocked meanwhile.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from xml.sax.saxutils import escape

from abhaya.installer.base import Check
from abhaya.installer.host import Host
from abhaya.installer.settings import InstallSettings
from abhaya.installer.steps import RunCommand, Step, WriteFile

TASK_NAME = "Abhaya"
PROGRAM_DATA = PureWindowsPath(r"C:\ProgramData\Abhaya")
TASK_XML = PROGRAM_DATA / "abhaya-task.xml"
SYSTEM_SID = "S-1-5-18"
RESTART_INTERVAL = "PT1M"
"""Task Scheduler's smallest restart interval."""
RESTART_COUNT = 999
"""Its largest number of restarts."""


def windows_run_command(settings: InstallSettings) -> tuple[str, ...]:
    """`abhaya run` with the data and policy folders under C:\\ProgramData\\Abhaya."""
    argv = [*settings.program, "run", "--data-dir", str(PROGRAM_DATA / "data")]
    argv += ["--listen", settings.proxy_address]
    if settings.policy_text is not None:
        argv += ["--policy", str(PROGRAM_DATA / "config" / "policy.toml")]
    return tuple(argv)


def task_xml(settings: InstallSettings) -> str:
    command, *arguments = windows_run_command(settings)
    return f"""\
<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.4" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>Abhaya filtering agent (web filter for this computer's children)</Description>
    <URI>\\{TASK_NAME}</URI>
  </RegistrationInfo>
  <Triggers>
    <BootTrigger>
      <Enabled>true</Enabled>
    </BootTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>{SYSTEM_SID}</UserId>
      <RunLevel>HighestAvailable</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <AllowHardTerminate>true</AllowHardTerminate>
    <StartWhenAvailable>true</StartWhenAvailable>
    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>
    <IdleSettings>
      <StopOnIdleEnd>false</StopOnIdleEnd>
      <RestartOnIdle>false</RestartOnIdle>
    </IdleSettings>
    <AllowStartOnDemand>true</AllowStartOnDemand>
    <Enabled>true</Enabled>
    <Hidden>false</Hidden>
    <RunOnlyIfIdle>false</RunOnlyIfIdle>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <RestartOnFailure>
      <Interval>{RESTART_INTERVAL}</Interval>
      <Count>{RESTART_COUNT}</Count>
    </RestartOnFailure>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>{escape(command)}</Command>
      <Arguments>{escape(subprocess.list2cmdline(arguments))}</Arguments>
    </Exec>
  </Actions>
</Task>
"""


@dataclass(frozen=True, slots=True)
class ServiceWindows:
    title: str = "The agent as a boot-time task"

    def steps(self, settings: InstallSettings) -> list[Step]:
        xml = str(TASK_XML)
        return [
            WriteFile(
                PurePosixPath(xml),
                # schtasks reads task XML as UTF-16 (what it exports), with its byte-order mark.
                task_xml(settings).encode("utf-16"),
                "Write the scheduled task's definition: at boot, as SYSTEM, restarted on "
                "failure, no time limit, also on battery",
            ),
            RunCommand(
                "create-task",
                ("schtasks", "/Create", "/TN", TASK_NAME, "/XML", xml, "/F"),
                "Register the task that starts the agent at every boot",
                undo_argv=("schtasks", "/Delete", "/TN", TASK_NAME, "/F"),
            ),
            RunCommand(
                "start-task",
                ("schtasks", "/Run", "/TN", TASK_NAME),
                "Start the agent now",
                undo_argv=("schtasks", "/End", "/TN", TASK_NAME),
            ),
        ]

    def checks(self, settings: InstallSettings, host: Host) -> list[Check]:
        return []
