"""`abhaya console` is a client: starting it loads Qt and the API client, never the store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CHECK = """
import sys
from pathlib import Path
from abhaya.agent import cli
from abhaya.ui.console import app
args = cli._parser().parse_args(["console", "--data-dir", sys.argv[1], "--language", "hi"])
assert (args.command, args.language, args.data_dir) == ("console", "hi", Path(sys.argv[1]))
secret_holders = ("sqlcipher3", "keyring", "abhaya.agent.store", "mitmproxy")
print(sorted(name for name in sys.modules if name.startswith(secret_holders)))
"""


def test_the_console_loads_nothing_of_the_store_or_the_keyring(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHECK, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_without_an_agent_the_console_says_so_and_cancelling_quits(tmp_path: Path) -> None:
    """The real command, offscreen: the dialog tells why; Escape closes it and the program."""
    script = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QLabel
from abhaya.agent.cli import main
app = QApplication([])
def answer_dialog():
    for dialog in app.topLevelWidgets():
        if isinstance(dialog, QDialog) and dialog.isVisible():
            message = dialog.findChild(QLabel, "message").text()
            if message:
                print(message, flush=True)
                dialog.reject()
timer = QTimer()
timer.timeout.connect(answer_dialog)
timer.start(100)
sys.exit(main(["console", "--data-dir", sys.argv[1]]))
"""
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert "Abhaya's agent is not running on this computer" in result.stdout
