"""The Linux service concern: the unit passes `systemd-analyze verify`, its environment makes a
real `abhaya run` keep its key in a file and publish api.json as the unit's runtime folder asks,
the plan's commands, the wait step against a real agent, and the checks.

systemd is not PID 1 here (nor in CI), so `systemctl enable/restart` are tested as the plan's
commands, not run; the unit is checked offline by systemd's own parser.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from abhaya.agent.exits import ExitStatus
from abhaya.installer.host import Host, InstallError
from abhaya.installer.plan import Plan, Section
from abhaya.installer.registry import STEP_CLASSES
from abhaya.installer.service.linux import ServiceLinux
from abhaya.installer.service.unit import ENVIRONMENT, UNIT_PATH, protect_home, quote, unit_text
from abhaya.installer.service.wait import WaitForProxy
from abhaya.installer.settings import InstallSettings, TargetOS
from tests.agent.conftest import Upstream, start_agent
from tests.conftest import write_policy

PROGRAM = (sys.executable, "-m", "abhaya.agent.cli")
needs_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed (Debian package `systemd`; scripts/test.sh adds it)",
)


def settings(**fields: object) -> InstallSettings:
    return InstallSettings(TargetOS.LINUX, PROGRAM, **fields)  # type: ignore[arg-type]


def verify(folder: Path, text: str) -> subprocess.CompletedProcess[str]:
    """systemd's offline check of a unit; any warning counts (unknown keys are only warned of)."""
    folder.mkdir(parents=True, exist_ok=True)
    unit = folder / "abhaya.service"
    unit.write_text(text)
    return subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
    )


def directives(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            name, _, value = line.partition("=")
            found.setdefault(name, []).append(value)
    return found


@needs_analyze
def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    done = verify(tmp_path, unit_text(settings(policy_text="[device]\n")))
    assert done.returncode == 0 and done.stderr == "" and done.stdout == "", done


@needs_analyze
def test_the_check_itself_catches_a_bad_unit(tmp_path: Path) -> None:
    bad = unit_text(settings()).replace("Restart=always", "Restart=sometimes")
    assert verify(tmp_path, bad).stderr != ""


@needs_analyze
def test_odd_characters_in_the_program_path_are_quoted_for_systemd(tmp_path: Path) -> None:
    """A path with a space, a specifier's % and a variable's $: systemd finds the executable
    only if the quoting is right (verify checks that ExecStart's program exists)."""
    odd = tmp_path / "my venv %h $HOME" / "python"
    odd.parent.mkdir()
    odd.symlink_to(sys.executable)
    done = verify(tmp_path / "unit", unit_text(InstallSettings(TargetOS.LINUX, (str(odd),))))
    assert done.returncode == 0 and done.stderr == "", done
    assert quote(str(odd)) == f'"{tmp_path}/my venv %%h $HOME/python"'
    # In an argument `$` would name a variable: doubled there.
    assert quote("$HOME", argument=True) == '"$$HOME"'


def test_the_unit_says_what_the_service_needs() -> None:
    text = unit_text(settings())
    found = directives(text)
    assert found["Type"] == ["notify"]
    assert found["User"] == found["Group"] == ["abhaya"]
    assert found["Restart"] == ["always"]
    assert found["RestartPreventExitStatus"] == [f"{ExitStatus.USAGE} {ExitStatus.CONFIG}"]
    assert found["ReadWritePaths"] == ["/var/lib/abhaya"]  # the embedded policy: no policy folder
    installed = directives(unit_text(settings(policy_text="version = 1\n")))
    assert installed["ReadWritePaths"] == ["/var/lib/abhaya /etc/abhaya/policy"]
    assert found["ProtectSystem"] == ["strict"]
    assert found["RestrictAddressFamilies"] == ["AF_UNIX AF_INET AF_INET6 AF_NETLINK"]
    assert found["RuntimeDirectory"] == ["abhaya"] and found["RuntimeDirectoryMode"] == ["0755"]
    assert "Environment" in found and "WatchdogSec" in found and "MemoryMax" in found
    assert found["ExecStart"] == [
        f"{sys.executable} -m abhaya.agent.cli run --data-dir /var/lib/abhaya "
        "--listen 127.0.0.1:8080"
    ]


def test_home_folders_are_hidden_unless_the_program_lives_in_one(tmp_path: Path) -> None:
    # A venv's script outside any home whose interpreter lives in one (pyenv under /root): the
    # service must see that folder, or it fails with 203/EXEC (found under a real systemd).
    script = tmp_path / "abhaya"
    script.write_text("#!/root/.pyenv/versions/3.11.7/bin/python3.11\n")
    assert protect_home(InstallSettings(TargetOS.LINUX, (str(script),))) == "read-only"
    script.write_text("#!/usr/bin/python3\n")
    assert protect_home(InstallSettings(TargetOS.LINUX, (str(script),))) == "yes"
    assert protect_home(InstallSettings(TargetOS.LINUX, ("/usr/bin/abhaya",))) == "yes"
    in_venv = InstallSettings(TargetOS.LINUX, ("/home/parent/.venv/bin/abhaya",))
    assert protect_home(in_venv) == "read-only"
    lists_in_home = InstallSettings(
        TargetOS.LINUX, ("/usr/bin/abhaya",), policy_text='file = "/home/parent/lists/x.txt"\n'
    )
    assert protect_home(lists_in_home) == "read-only"


def test_the_plan_writes_reloads_enables_restarts_and_waits() -> None:
    steps = ServiceLinux().steps(settings())
    text = Plan((Section("service", tuple(steps)),)).render()
    assert f"write {UNIT_PATH} (mode 0644" in text
    assert "then run: systemctl daemon-reload" in text
    assert "run: systemctl enable abhaya.service" in text
    assert "(undone by: systemctl disable --now abhaya.service)" in text
    assert "run: systemctl restart abhaya.service" in text
    assert "ExecReload=/bin/kill -HUP $MAINPID" in unit_text(settings())
    assert "proxy on 127.0.0.1:8080 answers" in text
    assert all(type(step) in STEP_CLASSES for step in steps)


def test_the_units_environment_makes_the_agent_keep_its_key_in_a_file_and_publish_its_api(
    tmp_path: Path,
) -> None:
    """`abhaya run` with the unit's Environment= and what systemd adds (RUNTIME_DIRECTORY,
    NOTIFY_SOCKET) and no D-Bus session: it starts at once, keeps the store key in its file,
    says READY=1 and publishes api.json for every account."""
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o755)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.settimeout(60)
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("DBUS_")
    }
    environment |= dict(ENVIRONMENT)
    environment |= {
        "RUNTIME_DIRECTORY": str(runtime),
        "NOTIFY_SOCKET": str(tmp_path / "notify.sock"),
    }
    data = tmp_path / "data"
    started = time.monotonic()
    process = subprocess.Popen(
        [*PROGRAM, "run", "--listen", "127.0.0.1:0", "--data-dir", str(data),
         "--policy", str(write_policy(tmp_path / "policy"))],
        env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        with notify:
            message = notify.recv(4096).decode()
        assert "READY=1" in message
        assert time.monotonic() - started < 30
        assert (data / "store.key").exists()
        published = runtime / "api.json"
        assert published.stat().st_mode & 0o777 == 0o644
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 0, out
    assert re.search(r"events\.db \(encrypted, key in a file", out), out
    assert "Running as a system service" in out and "Ctrl+C" not in out
    assert not published.exists()


def test_waiting_for_a_real_agent_returns_once_it_answers(
    tmp_path: Path, upstream: Upstream
) -> None:
    running = start_agent(tmp_path, upstream)
    try:
        host, port = running.agent.addresses[0]
        step = WaitForProxy(f"{host}:{port}", "abhaya.service", timeout=5)
        record = step.apply(Host(root=tmp_path), None)
    finally:
        running.stop()
    WaitForProxy.undo(Host(root=tmp_path), record)  # a wait has nothing to undo


def test_waiting_for_nothing_fails_in_words_with_the_journals_last_lines(tmp_path: Path) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    step = WaitForProxy(f"127.0.0.1:{port}", "abhaya.service", timeout=0.5)
    started = time.monotonic()
    with pytest.raises(InstallError) as caught:
        step.apply(Host(root=tmp_path), None)
    assert time.monotonic() - started < 5
    assert f"did not answer on 127.0.0.1:{port}" in str(caught.value)
    assert "journalctl -u abhaya.service" in str(caught.value)


def test_checks_find_the_unit_missing_changed_and_in_place(
    tmp_path: Path, upstream: Upstream
) -> None:
    host = Host(root=tmp_path / "root")
    concern = ServiceLinux()
    running = start_agent(tmp_path, upstream)
    try:
        host_, port = running.agent.addresses[0]
        wanted = settings(listen_host=host_, listen_port=port)
        by_name = {check.name: check for check in concern.checks(wanted, host)}
        unit = by_name[f"the service's unit {UNIT_PATH} is as the install wrote it"]
        assert not unit.ok and "missing" in unit.detail and "abhaya install" in unit.fix
        path = host.path(UNIT_PATH)
        path.parent.mkdir(parents=True)
        path.write_text(unit_text(wanted))
        checks = concern.checks(wanted, host)
        assert checks[0].ok
        proxy = checks[-1]
        assert proxy.ok and proxy.detail.startswith("HTTP/1.1 ")
        # No /run/systemd/system under this root: the service cannot run, and it says so.
        systemd = [c for c in checks if c.name == "systemd runs this computer's services"]
        assert systemd and not systemd[0].ok
        path.write_text(unit_text(wanted).replace("Restart=always", "Restart=no"))
        assert not concern.checks(wanted, host)[0].ok
    finally:
        running.stop()
    assert not concern.checks(wanted, host)[-1].ok  # stopped: nothing answers
