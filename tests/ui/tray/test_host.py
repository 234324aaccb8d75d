"""Finding a tray host on a real X server, and the notifications used when there is none."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from abhaya.ui.tray.host import DesktopNotifier, find_tray, pick_backend
from tests.ui.tray.conftest import XServer


def test_a_bare_x_server_has_no_tray(xserver: XServer) -> None:
    host = find_tray(xserver.env())
    assert not host.available and host.backend == "xorg"
    assert "no tray host" in host.detail


def test_trayer_is_found_as_the_tray_host(tray_host: XServer) -> None:
    host = find_tray(tray_host.env())
    assert host.available and "tray host found" in host.detail


def test_no_display_means_no_tray() -> None:
    host = find_tray({"PYSTRAY_BACKEND": "xorg"})
    assert not host.available and "DISPLAY" in host.detail


# python-xlib leaves its socket open when a connection fails (its bug, not the tray's).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_unreachable_display_is_reported_not_raised() -> None:
    host = find_tray({"PYSTRAY_BACKEND": "xorg", "DISPLAY": ":939"})
    assert not host.available and "cannot open X display :939" in host.detail


def test_the_appindicator_check_asks_the_session_bus() -> None:
    if shutil.which("dbus-send") is None:
        pytest.fail("dbus-send is missing: scripts/test.sh installs dbus")
    # The tests' own D-Bus session runs no StatusNotifierWatcher (no panel).
    host = find_tray({"PYSTRAY_BACKEND": "appindicator"})
    assert not host.available and "StatusNotifierWatcher" in host.detail


def test_the_backend_is_pystrays_own_choice_unless_named() -> None:
    assert pick_backend({"PYSTRAY_BACKEND": "gtk"}) == "gtk"
    assert pick_backend({}) in ("appindicator", "xorg")


def recording_program(folder: Path, exit_code: int) -> tuple[Path, Path]:
    """A notification program that writes its arguments to a file and exits with `exit_code`."""
    log = folder / "notified.txt"
    program = folder / "notify"
    program.write_text(f'#!/bin/sh\nprintf "%s|" "$@" >> "{log}"\nexit {exit_code}\n')
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return program, log


def test_notifications_go_to_the_notification_program(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program, log = recording_program(tmp_path, 0)
    DesktopNotifier(str(program)).notify("Abhaya", "New request from asha: games.example")
    assert log.read_text() == "--app-name=Abhaya|Abhaya|New request from asha: games.example|"
    assert capsys.readouterr().err == ""


def test_a_failed_notification_is_printed_instead(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program, log = recording_program(tmp_path, 1)
    DesktopNotifier(str(program)).notify("Abhaya", "1 alert")
    assert log.exists()
    assert capsys.readouterr().err == "abhaya: Abhaya: 1 alert\n"
