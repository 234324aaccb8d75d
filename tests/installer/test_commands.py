"""`abhaya install`, `uninstall` and `doctor` as a parent or an IT person sees them."""

from __future__ import annotations

import io
import os
from dataclasses import replace

import pytest

from abhaya.agent.cli import main
from abhaya.installer import commands
from abhaya.installer.host import Host
from abhaya.installer.settings import TargetOS


def test_a_dry_run_shows_the_plan_and_changes_nothing(scratch: Host) -> None:
    out = io.StringIO()
    assert commands.install(None, dry_run=True, host=scratch, out=out) == 0
    shown = out.getvalue()
    assert "Abhaya would install on this linux computer" in shown
    assert "useradd --system" in shown
    assert "write /var/lib/abhaya-install/settings.json" in shown
    assert not any(scratch.root.rglob("*.json"))


@pytest.mark.parametrize("target", [TargetOS.WINDOWS, TargetOS.MACOS])
def test_other_systems_are_plans_only(scratch: Host, target: TargetOS) -> None:
    out = io.StringIO()
    assert commands.install(None, dry_run=True, target=target, host=scratch, out=out) == 0
    assert f"the {target.value} backend cannot run here" in out.getvalue()
    out = io.StringIO()
    assert commands.install(None, dry_run=False, target=target, host=scratch, out=out) == 1
    assert "add --dry-run" in out.getvalue()


def test_an_invalid_policy_changes_nothing(scratch: Host, tmp_path: object) -> None:
    out = io.StringIO()
    bad = scratch.root / "bad.toml"
    bad.write_text("version = 2\n")
    assert commands.install(bad, dry_run=False, host=scratch, out=out) == 1
    assert "nothing was changed" in out.getvalue()
    assert "policy version 2 is not supported" in out.getvalue()


def test_doctor_and_uninstall_on_a_machine_without_abhaya(scratch: Host) -> None:
    out = io.StringIO()
    assert commands.doctor(host=scratch, out=out) == 1
    assert "Abhaya is not installed on this computer" in out.getvalue()
    out = io.StringIO()
    assert commands.remove(dry_run=True, host=scratch, out=out) == 0
    assert "nothing to remove" in out.getvalue()


def test_without_root_install_and_uninstall_say_so_and_change_nothing(scratch: Host) -> None:
    child = replace(scratch, euid=lambda: 1000)
    before = sorted(scratch.root.rglob("*"))
    out = io.StringIO()
    assert commands.install(None, dry_run=False, host=child, out=out) == commands.EXIT_NOT_ROOT
    assert "needs administrator rights: run `sudo abhaya install`" in out.getvalue()
    out = io.StringIO()
    assert commands.remove(dry_run=False, host=child, out=out) == commands.EXIT_NOT_ROOT
    assert "run `sudo abhaya uninstall`" in out.getvalue()
    assert sorted(scratch.root.rglob("*")) == before
    # A dry run needs no root.
    assert commands.install(None, dry_run=True, host=child, out=io.StringIO()) == 0


def test_the_cli_reaches_the_installer(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["install", "--dry-run", "--target", "macos"]) == 0
    assert "launchctl bootstrap system" in capsys.readouterr().out


@pytest.mark.skipif(os.geteuid() != 0, reason="the refusal comes after the check for root")
def test_a_computer_without_systemd_is_told_before_anything_changes(scratch: Host) -> None:
    """The scratch root has no /run/systemd/system, as this machine and CI have none."""
    out = io.StringIO()
    before = sorted(scratch.root.rglob("*"))
    assert commands.install(None, dry_run=False, host=scratch, out=out) == 1
    assert "not run by systemd" in out.getvalue()
    assert sorted(scratch.root.rglob("*")) == before
