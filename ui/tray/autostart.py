"""The XDG autostart entry that starts the tray with the parent's desktop session.

`abhaya tray --install-autostart` writes it (into the user's ~/.config/autostart, or for every
user into /etc/xdg/autostart when the installer passes `--system`); `--remove-autostart`
removes it.  Both are idempotent: writing the same entry again changes nothing, removing a
missing one is not an error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

ENTRY_NAME = "abhaya-tray.desktop"
SYSTEM_DIR = Path("/etc/xdg/autostart")

_PLAIN_ARGUMENT = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")


def user_dir(environ: Mapping[str, str] | None = None) -> Path:
    """$XDG_CONFIG_HOME/autostart, or ~/.config/autostart as the XDG spec defaults it."""
    env = os.environ if environ is None else environ
    config = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "autostart"


def exec_quote(argument: str) -> str:
    """One argument of an Exec line, quoted as the Desktop Entry spec asks (a `%` is doubled,
    since the launcher would read it as a field code)."""
    if _PLAIN_ARGUMENT.fullmatch(argument) and "%" not in argument:
        return argument
    escaped = re.sub(r'(["`$\\])', r"\\\1", argument).replace("%", "%%")
    return f'"{escaped}"'


def entry_text(command: Sequence[str]) -> str:
    exec_line = " ".join(exec_quote(part) for part in command)
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=Abhaya tray\n"
        "Name[hi]=अभय ट्रे\n"
        "Comment=Shows whether Abhaya's protection is on, with the parent's quick actions\n"
        "Comment[hi]=दिखाता है कि अभय की सुरक्षा चालू है या नहीं\n"
        f"Exec={exec_line}\n"
        "Icon=security-high\n"
        "Terminal=false\n"
        "NoDisplay=true\n"
        "X-GNOME-Autostart-enabled=true\n"
    )


def install(folder: Path, command: Sequence[str]) -> tuple[Path, bool]:
    """Write the entry into `folder`; returns its path and whether anything changed."""
    path = folder / ENTRY_NAME
    text = entry_text(command)
    try:
        if path.read_text(encoding="utf-8") == text:
            return path, False
    except FileNotFoundError:
        pass
    folder.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(text, encoding="utf-8")
    partial.chmod(0o644)
    partial.replace(path)
    return path, True


def remove(folder: Path) -> tuple[Path, bool]:
    """Remove the entry from `folder`; returns its path and whether there was one."""
    path = folder / ENTRY_NAME
    try:
        path.unlink()
    except FileNotFoundError:
        return path, False
    return path, True
