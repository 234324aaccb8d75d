"""The macOS plan: a launchd daemon with KeepAlive as the role account `_abhaya` (tested as a
plan: macOS cannot run here; the plist is parsed with plistlib)."""

from __future__ import annotations

import plistlib
import subprocess
import sys
from pathlib import Path

from abhaya.installer.plan import Plan, Section
from abhaya.installer.registry import STEP_CLASSES
from abhaya.installer.service.macos import PLIST_PATH, ServiceMacos
from abhaya.installer.settings import InstallSettings, TargetOS
from abhaya.installer.steps import RunCommand, WriteFile

PROGRAM = ("/Applications/Abhaya.app/Contents/MacOS/abhaya",)


def settings() -> InstallSettings:
    return InstallSettings(TargetOS.MACOS, PROGRAM, service_user="_abhaya")


def test_the_daemon_plist_runs_the_agent_as_abhaya_and_keeps_it_alive() -> None:
    [written] = [s for s in ServiceMacos().steps(settings()) if isinstance(s, WriteFile)]
    assert written.path == PLIST_PATH
    assert str(PLIST_PATH) == "/Library/LaunchDaemons/in.abhaya.agent.plist"
    daemon = plistlib.loads(written.content)
    assert daemon["Label"] == "in.abhaya.agent"
    assert daemon["ProgramArguments"] == list(settings().run_command)
    assert daemon["UserName"] == daemon["GroupName"] == "_abhaya"
    assert daemon["RunAtLoad"] is True and daemon["KeepAlive"] is True
    assert daemon["ThrottleInterval"] == 1
    assert daemon["EnvironmentVariables"]["PYTHON_KEYRING_BACKEND"] == (
        "keyring.backends.fail.Keyring"
    )


def test_the_commands_bootstrap_into_the_system_domain_and_bootout_on_undo() -> None:
    steps = ServiceMacos().steps(settings())
    commands = {s.name: s for s in steps if isinstance(s, RunCommand)}
    load = commands["bootstrap-daemon"]
    assert load.argv == ("launchctl", "bootstrap", "system", str(PLIST_PATH))
    assert load.undo_argv == ("launchctl", "bootout", "system/in.abhaya.agent")
    names = [type(s).__name__ + ":" + s.key for s in steps]
    assert names.index("RunCommand:command:account-_abhaya") < names.index(
        f"WriteFile:file:{PLIST_PATH}"
    )
    text = Plan((Section("service", tuple(steps)),)).render()
    assert "launchctl bootstrap system /Library/LaunchDaemons/in.abhaya.agent.plist" in text
    assert all(type(step) in STEP_CLASSES for step in steps)


def test_the_account_script_picks_the_first_free_role_id(tmp_path: Path) -> None:
    """The dscl script runs here against a fake `dscl` on PATH that records its calls and
    says ids 200 and 201 are taken: it makes the group and the user with id 202."""
    account = {s.name: s for s in ServiceMacos().steps(settings()) if isinstance(s, RunCommand)}[
        "account-_abhaya"
    ]
    calls = tmp_path / "calls"
    fake = tmp_path / "dscl"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"open({str(calls)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        "if sys.argv[2] == '-search' and sys.argv[-1] in ('200', '201'):\n"
        "    print('taken')\n"
    )
    fake.chmod(0o755)
    done = subprocess.run(
        account.argv, env={"PATH": f"{tmp_path}:/usr/bin:/bin"}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    made = [line for line in calls.read_text().splitlines() if "-create" in line]
    assert ". -create /Groups/_abhaya PrimaryGroupID 202" in made
    assert ". -create /Users/_abhaya UniqueID 202" in made
    assert ". -create /Users/_abhaya UserShell /usr/bin/false" in made
    assert account.undo_argv is not None and "dscl . -delete" in account.undo_argv[2]
