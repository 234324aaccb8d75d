"""The timer that keeps the parent console's install checks fresh."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from abhaya.installer.host import Host
from abhaya.installer.journal import CHECKS_NAME, Journal
from abhaya.installer.service.checkunits import (
    CHECK_SERVICE,
    CHECK_TIMER,
    TIMER_TEXT,
    check_service_text,
)
from abhaya.installer.service.linux import ServiceLinux
from abhaya.installer.steps import RunCommand
from tests.installer.service.test_linux import PROGRAM, settings

needs_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed (Debian package `systemd`; scripts/test.sh adds it)",
)


@needs_analyze
def test_the_check_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    service = tmp_path / CHECK_SERVICE
    timer = tmp_path / CHECK_TIMER
    service.write_text(check_service_text(settings()))
    timer.write_text(TIMER_TEXT)
    done = subprocess.run(
        ["systemd-analyze", "verify", str(service), str(timer)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and done.stderr == "" and done.stdout == "", done


def test_the_checks_run_as_root_every_15_minutes_and_save_for_the_console() -> None:
    text = check_service_text(settings())
    assert f"ExecStart={PROGRAM[0]} -m abhaya.agent.cli doctor --save" in text
    assert "User=" not in text  # root: the firewall and other accounts' stores need it
    assert "OnUnitActiveSec=15min" in TIMER_TEXT
    enable = [
        step
        for step in ServiceLinux().steps(settings())
        if isinstance(step, RunCommand) and step.name == "enable-checks"
    ]
    assert enable[0].argv == ("systemctl", "enable", "--now", CHECK_TIMER)
    assert enable[0].undo_argv == ("systemctl", "disable", "--now", CHECK_TIMER)


def test_the_saved_checks_go_with_the_install(tmp_path: Path) -> None:
    host = Host(root=tmp_path)
    journal = Journal(host)
    journal.save()
    saved = journal.path.parent / CHECKS_NAME
    saved.write_text("{}")
    journal.remove()
    assert not journal.path.parent.exists()
