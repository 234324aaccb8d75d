"""The separate processes the tray starts: the console, the PIN dialog, and (on pystray's
X11 backend, which draws no menu) the menu as a Qt popup.

The PIN dialog is Qt and the icon's loop is pystray's (X11 or GObject); two toolkits cannot
own one thread's loop, and pystray's `run_detached` only helps when the other toolkit is
GObject-based.  So the dialog is a short-lived process of its own (`abhaya tray --ask-pin`):
Qt is loaded only while a PIN is asked (the tray itself stays small), a crash of the dialog
cannot take the icon down, and the PIN comes back through a pipe, never a command line.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from abhaya.ui.tray.controller import Action, MenuItem
from abhaya.ui.tray.menuwire import chosen_action, menu_json
from abhaya.ui.tray.words import Language

ABHAYA = (sys.executable, "-m", "abhaya.agent.cli")
"""The `abhaya` command of this very installation (a PATH lookup could find another)."""

CONSOLE_GRACE_S = 3.0
"""A console that exits within this with an error failed to start; one still running is up."""
PIN_WAIT_S = 300.0
MENU_WAIT_S = 120.0
"""A popup left open this long (the parent walked away) is closed, choosing nothing."""


class LaunchError(Exception):
    """The other process could not be started or failed at once; the message says why."""


def open_console(
    data_dir: Path, language: Language, abhaya: Sequence[str] = ABHAYA
) -> subprocess.Popen[bytes]:
    """Start `abhaya console` for `data_dir`, in the tray's language; LaunchError when it fails
    to start."""
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(
                [*abhaya, "console", "--data-dir", str(data_dir), "--language", language],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )
        except OSError as error:
            raise LaunchError(f"the console could not be started: {error}") from None
        try:
            code = process.wait(CONSOLE_GRACE_S)
        except subprocess.TimeoutExpired:
            return process
        errors.seek(0)
        said = errors.read().decode("utf-8", "replace").strip().splitlines()
    if code == 0:
        return process
    last = said[-1] if said else f"exit status {code}"
    raise LaunchError(f"the console could not be started (`abhaya console`): {last}")


def _answer(argv: Sequence[str], what: str, timeout: float, given: str | None = None) -> str | None:
    """Run a dialog process: its standard output when it exits 0, None when it exits 1 (the
    parent cancelled) or is left open past `timeout`; LaunchError naming `what` otherwise."""
    try:
        answer = subprocess.run(
            argv,
            input=given,
            stdin=subprocess.DEVNULL if given is None else None,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    except OSError as error:
        raise LaunchError(f"{what} could not be started: {error}") from None
    if answer.returncode == 0:
        return answer.stdout
    if answer.returncode == 1:
        return None
    said = answer.stderr.strip().splitlines()
    raise LaunchError(
        f"{what} failed: " + (said[-1] if said else f"exit status {answer.returncode}")
    )


def ask_pin(reason: str, language: Language) -> str | None:
    """The PIN typed into the dialog, or None when the parent cancelled; LaunchError when the
    dialog itself could not run (no Qt, no display)."""
    argv = [*ABHAYA, "tray", "--ask-pin", "--reason", reason, "--language", language]
    answer = _answer(argv, "the PIN dialog", PIN_WAIT_S)
    return None if answer is None else answer.rstrip("\r\n")


def choose_from_menu(
    menu: Sequence[MenuItem], language: Language, abhaya: Sequence[str] = ABHAYA
) -> Action | None:
    """Show `menu` as a popup where the mouse is; the action chosen, or None when the parent
    chose nothing; LaunchError when the popup itself could not run (no Qt, no display)."""
    argv = [*abhaya, "tray", "--menu", "--language", language]
    answer = _answer(argv, "the menu", MENU_WAIT_S, menu_json(menu))
    return None if answer is None else chosen_action(answer, menu)
