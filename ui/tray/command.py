"""The `abhaya tray` command line: the icon, the PIN dialog, and the autostart entry.

Kept out of `agent/cli.py` so that the CLI only names the options and hands over, and so that
nothing of the tray (pystray, Qt) is imported by any other command.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from abhaya.ui.tray import autostart
from abhaya.ui.tray.host import TRAY_WAIT_S
from abhaya.ui.tray.words import LANGUAGES, language_from_environment


def add_arguments(tray: argparse.ArgumentParser) -> None:
    modes = tray.add_mutually_exclusive_group()
    modes.add_argument(
        "--install-autostart",
        action="store_true",
        help="start the tray with the desktop session (an XDG autostart entry)",
    )
    modes.add_argument(
        "--remove-autostart", action="store_true", help="remove that autostart entry"
    )
    modes.add_argument("--ask-pin", action="store_true", help=argparse.SUPPRESS)
    modes.add_argument("--menu", action="store_true", help=argparse.SUPPRESS)
    tray.add_argument(
        "--user-dir",
        type=Path,
        metavar="DIR",
        help="the autostart folder (default $XDG_CONFIG_HOME/autostart or ~/.config/autostart)",
    )
    tray.add_argument(
        "--system",
        action="store_true",
        help=f"use {autostart.SYSTEM_DIR} (every user's sessions; for the installer, as root)",
    )
    tray.add_argument(
        "--wait-for-tray",
        type=float,
        default=TRAY_WAIT_S,
        metavar="SECONDS",
        help="at login, how long to wait for the desktop's tray before falling back to "
        f"notifications (default {TRAY_WAIT_S:g})",
    )
    tray.add_argument(
        "--language", choices=LANGUAGES, help="the tray's language (default: the locale's)"
    )
    tray.add_argument("--reason", default="", help=argparse.SUPPRESS)


def tray_command(args: argparse.Namespace, data_dir: Path, data_dir_given: bool) -> int:
    language = args.language or language_from_environment()
    if args.ask_pin:
        from abhaya.ui.tray import pindialog

        return pindialog.run(args.reason, language)
    if args.menu:
        from abhaya.ui.tray import popup

        return popup.run(language)
    if args.install_autostart or args.remove_autostart:
        folder = _autostart_folder(args)
        if args.remove_autostart:
            path, changed = autostart.remove(folder)
            print(f"abhaya: {'removed' if changed else 'there was no'} autostart entry {path}")
            return 0
        command = [*_abhaya_command(), "tray"]
        if data_dir_given:
            command += ["--data-dir", str(data_dir)]
        path, changed = autostart.install(folder, command)
        print(f"abhaya: autostart entry {path} {'written' if changed else 'already up to date'}")
        return 0
    from abhaya.ui.tray import app

    return app.run(data_dir, language, tray_wait=max(0.0, args.wait_for_tray))


def _autostart_folder(args: argparse.Namespace) -> Path:
    if args.user_dir is not None:
        folder: Path = args.user_dir.expanduser().absolute()
        return folder
    return autostart.SYSTEM_DIR if args.system else autostart.user_dir()


def _abhaya_command() -> list[str]:
    """The installed `abhaya` script beside this Python (a venv's bin), or `python -m`."""
    script = Path(sys.executable).parent / "abhaya"
    if script.is_file():
        return [str(script)]
    found = shutil.which("abhaya")
    return [found] if found else [sys.executable, "-m", "abhaya.agent.cli"]
