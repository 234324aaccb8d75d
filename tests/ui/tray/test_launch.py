"""The console the tray opens speaks the tray's language and looks at the tray's agent."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from abhaya.ui.tray import launch


def test_the_console_is_opened_for_the_data_folder_in_the_trays_language(tmp_path: Path) -> None:
    said = tmp_path / "argv.json"
    recorder = [
        sys.executable,
        "-c",
        f"import json, sys; open({str(said)!r}, 'w').write(json.dumps(sys.argv[1:]))",
    ]
    process = launch.open_console(tmp_path / "data", "hi", recorder)
    assert process.wait(10) == 0
    assert json.loads(said.read_text()) == [
        "console",
        "--data-dir",
        str(tmp_path / "data"),
        "--language",
        "hi",
    ]
