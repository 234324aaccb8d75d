"""The console's own settings (its language, whether the walk-through was skipped), in a small
file of the user's.

Kept apart from the policy (the agent's, edited through the API) because it is a preference of
the person at this window, not a rule for the child: `<config>/abhaya/console.toml`, where
<config> is $XDG_CONFIG_HOME or ~/.config (%APPDATA% on Windows).  A missing or damaged file
means the defaults; it is replaced whole (written beside and renamed), never half written.
"""

from __future__ import annotations

import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from abhaya.ui.console.texts import DEFAULT_LANGUAGE, LANGUAGES

FILE_NAME = "console.toml"


@dataclass(frozen=True, slots=True)
class ConsoleSettings:
    language: str = DEFAULT_LANGUAGE
    setup_skipped: bool = False
    """The parent skipped the first-start walk-through: it is not offered again at sign-in
    (Settings still opens it)."""


def default_settings_path() -> Path:
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        base = Path(os.environ["APPDATA"])
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "abhaya" / FILE_NAME


def load_settings(path: Path) -> ConsoleSettings:
    """The saved settings; the defaults for a missing, unreadable or damaged file."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ConsoleSettings()
    language = table.get("language")
    return ConsoleSettings(
        language if language in LANGUAGES else DEFAULT_LANGUAGE,
        table.get("setup_skipped") is True,
    )


def save_settings(path: Path, settings: ConsoleSettings) -> None:
    """Write the file whole; OSError when the folder cannot be made or written."""
    if settings.language not in LANGUAGES:
        raise ValueError(f"no console language {settings.language!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    skipped = "true" if settings.setup_skipped else "false"
    temporary.write_text(
        f'# The Abhaya console\'s own settings.\nlanguage = "{settings.language}"\n'
        f"setup_skipped = {skipped}\n",
        encoding="utf-8",
    )
    temporary.replace(path)
