"""The XDG autostart entry, written and removed by `abhaya tray` into a temporary folder."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

from abhaya.ui.tray import autostart

ABHAYA = [sys.executable, "-m", "abhaya.agent.cli"]


def tray(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ABHAYA, "tray", *args], capture_output=True, text=True, timeout=60, check=False
    )


def read_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser["Desktop Entry"]


def test_install_writes_a_desktop_entry_once_and_remove_removes_it(tmp_path: Path) -> None:
    folder = tmp_path / "autostart"
    data = tmp_path / "agent data"
    first = tray("--install-autostart", "--user-dir", str(folder), "--data-dir", str(data))
    assert first.returncode == 0, first.stderr
    entry_path = folder / "abhaya-tray.desktop"
    assert f"{entry_path} written" in first.stdout
    entry = read_entry(entry_path)
    assert entry["Type"] == "Application"
    assert entry["Terminal"] == "false"
    assert entry["Exec"].endswith(f'tray --data-dir "{data}"')
    assert entry_path.stat().st_mode & 0o777 == 0o644
    written = entry_path.read_bytes()

    again = tray("--install-autostart", "--user-dir", str(folder), "--data-dir", str(data))
    assert again.returncode == 0 and "already up to date" in again.stdout
    assert entry_path.read_bytes() == written

    removed = tray("--remove-autostart", "--user-dir", str(folder))
    assert removed.returncode == 0 and "removed" in removed.stdout
    assert not entry_path.exists()
    twice = tray("--remove-autostart", "--user-dir", str(folder))
    assert twice.returncode == 0 and "there was no autostart entry" in twice.stdout


def test_the_exec_line_runs_this_installation_of_abhaya(tmp_path: Path) -> None:
    assert tray("--install-autostart", "--user-dir", str(tmp_path)).returncode == 0
    command = read_entry(tmp_path / "abhaya-tray.desktop")["Exec"].split()
    assert command[-1] == "tray"
    assert Path(command[0]).parent == Path(sys.executable).parent


def test_a_changed_command_rewrites_the_entry(tmp_path: Path) -> None:
    path, changed = autostart.install(tmp_path, ["/usr/bin/abhaya", "tray"])
    assert changed
    assert autostart.install(tmp_path, ["/usr/bin/abhaya", "tray"]) == (path, False)
    assert autostart.install(tmp_path, ["/opt/abhaya/bin/abhaya", "tray"]) == (path, True)
    assert "Exec=/opt/abhaya/bin/abhaya tray\n" in path.read_text(encoding="utf-8")
    assert not list(tmp_path.glob("*.partial"))


def test_exec_arguments_are_quoted_as_the_desktop_entry_spec_asks() -> None:
    assert autostart.exec_quote("/usr/bin/abhaya") == "/usr/bin/abhaya"
    assert autostart.exec_quote("/home/a b/data") == '"/home/a b/data"'
    assert autostart.exec_quote('say "$HOME" `x` \\') == '"say \\"\\$HOME\\" \\`x\\` \\\\"'
    assert autostart.exec_quote("100%") == '"100%%"'


def test_the_user_folder_follows_xdg_config_home(tmp_path: Path) -> None:
    assert autostart.user_dir({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "autostart"
    assert autostart.user_dir({}) == Path.home() / ".config" / "autostart"
