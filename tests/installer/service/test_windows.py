"""The Windows plan: a boot-time scheduled task as SYSTEM from an XML definition (tested as a
plan: Windows cannot run here)."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET

from abhaya.installer.plan import Plan, Section
from abhaya.installer.registry import STEP_CLASSES
from abhaya.installer.service.windows import TASK_XML, ServiceWindows, task_xml
from abhaya.installer.settings import InstallSettings, TargetOS
from abhaya.installer.steps import RunCommand, WriteFile

NS = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
PROGRAM = (r"C:\Program Files\Abhaya\abhaya.exe",)


def settings() -> InstallSettings:
    return InstallSettings(TargetOS.WINDOWS, PROGRAM, policy_text="[device]\n")


def test_the_task_runs_at_boot_as_system_restarts_and_never_times_out() -> None:
    [written] = [s for s in ServiceWindows().steps(settings()) if isinstance(s, WriteFile)]
    assert written.content.startswith(b"\xff\xfe")  # UTF-16 with its byte-order mark
    root = ET.fromstring(written.content.decode("utf-16").split("?>", 1)[1])
    assert root.find("t:Triggers/t:BootTrigger/t:Enabled", NS).text == "true"  # type: ignore[union-attr]
    principal = root.find("t:Principals/t:Principal", NS)
    assert principal is not None
    assert principal.findtext("t:UserId", namespaces=NS) == "S-1-5-18"  # LocalSystem
    assert principal.findtext("t:RunLevel", namespaces=NS) == "HighestAvailable"
    settings_ = root.find("t:Settings", NS)
    assert settings_ is not None
    assert settings_.findtext("t:ExecutionTimeLimit", namespaces=NS) == "PT0S"
    assert settings_.findtext("t:DisallowStartIfOnBatteries", namespaces=NS) == "false"
    assert settings_.findtext("t:StopIfGoingOnBatteries", namespaces=NS) == "false"
    assert settings_.findtext("t:RestartOnFailure/t:Interval", namespaces=NS) == "PT1M"
    assert settings_.findtext("t:RestartOnFailure/t:Count", namespaces=NS) == "999"
    exec_ = root.find("t:Actions/t:Exec", NS)
    assert exec_ is not None
    assert exec_.findtext("t:Command", namespaces=NS) == PROGRAM[0]
    arguments = exec_.findtext("t:Arguments", namespaces=NS)
    assert arguments == subprocess.list2cmdline(
        ["run", "--data-dir", r"C:\ProgramData\Abhaya\data", "--listen", "127.0.0.1:8080",
         "--policy", r"C:\ProgramData\Abhaya\config\policy.toml"]
    )  # fmt: skip


def test_odd_characters_are_escaped_in_the_xml() -> None:
    odd = InstallSettings(TargetOS.WINDOWS, (r"C:\A & B <x>\abhaya.exe",))
    root = ET.fromstring(task_xml(odd).split("?>", 1)[1])
    assert root.findtext("t:Actions/t:Exec/t:Command", namespaces=NS) == r"C:\A & B <x>\abhaya.exe"


def test_the_commands_create_start_and_undo_the_task() -> None:
    steps = ServiceWindows().steps(settings())
    commands = {s.name: s for s in steps if isinstance(s, RunCommand)}
    create = commands["create-task"]
    assert create.argv == ("schtasks", "/Create", "/TN", "Abhaya", "/XML", str(TASK_XML), "/F")
    assert create.undo_argv == ("schtasks", "/Delete", "/TN", "Abhaya", "/F")
    assert commands["start-task"].argv == ("schtasks", "/Run", "/TN", "Abhaya")
    assert commands["start-task"].undo_argv == ("schtasks", "/End", "/TN", "Abhaya")
    text = Plan((Section("service", tuple(steps)),)).render()
    assert r"write C:\ProgramData\Abhaya\abhaya-task.xml" in text
    assert all(type(step) in STEP_CLASSES for step in steps)
