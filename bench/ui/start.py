"""Measure the console's start: from a new process to a usable (painted, filled) dashboard.

Run by hand (never in CI):  .venv/bin/python bench/ui/start.py [--runs 5]

Starts a real `abhaya run` (its embedded default policy) in a temporary folder with a PIN set,
then for each run starts a fresh Python process that imports Qt and the console, shows the
sign-in dialog (after asking the agent whether a PIN is set), types the PIN, and stops the
clock when the first dashboard has been laid out and painted.  Prints the median and worst of
each phase (seconds) and of the memory then in use (MB).  The time a parent takes to type the
PIN is not counted; the process's own start (interpreter, imports) is.  Then the language is
changed to Hindi as the Settings page does (host.ConsoleHost.switch): timed to the rebuilt
window painted, and to its dashboard refilled through the same session.
See README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PIN = "2468"

ONE_RUN = """
import json, sys, time
import psutil
born = psutil.Process().create_time()
from PySide6.QtWidgets import QApplication
from abhaya.ui.console.host import ConsoleHost
from abhaya.ui.console.service import ConsoleService
imported = time.time()
app = QApplication([])
host = ConsoleHost(ConsoleService(__import__("pathlib").Path(sys.argv[1])), "en")
console = host.console
marks = {}
def dialog_up():
    if console.dialog is not None and "dialog" not in marks:
        marks["dialog"] = time.time()
        console.dialog.pin.setText(sys.argv[2])
        marks["typed"] = time.time()
        console.dialog.ok.click()
def dashboard(state):
    app.processEvents()
    console.window.repaint()
    marks["dashboard"] = time.time()
    marks["rss_mb"] = psutil.Process().memory_info().rss / 2**20
    marks["switch_began"] = time.time()
    host.switch("hi")  # as the Settings page does once the language is saved
    host.console.window.repaint()
    marks["switched"] = time.time()
    host.console.dashboard.updated.connect(refilled)
def refilled(state):
    app.processEvents()
    host.console.window.repaint()
    marks["refilled"] = time.time()
    app.quit()
console.session.pin_needed.connect(lambda _: app.processEvents() or dialog_up())
console.dashboard.updated.connect(dashboard)
host.start()
app.exec()
host.close()
print(json.dumps({
    "imports": imported - born,
    "to_dialog": marks["dialog"] - born,
    "pin_to_dashboard": marks["dashboard"] - marks["typed"],
    "total_less_typing": marks["dashboard"] - born - (marks["typed"] - marks["dialog"]),
    "rss_mb": marks["rss_mb"],
    "language_to_window": marks["switched"] - marks["switch_began"],
    "language_to_dashboard": marks["refilled"] - marks["switch_began"],
}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        out = open(Path(folder) / "out.txt", "w")  # noqa: SIM115 - kept open for the agent
        agent = subprocess.Popen(
            [sys.executable, "-m", "abhaya.agent.cli", "run", "--listen", "127.0.0.1:0",
             "--data-dir", str(data)],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while not (data / "api.json").exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            subprocess.run(
                [sys.executable, "-m", "abhaya.agent.cli", "set-pin", "--data-dir", str(data)],
                input=f"{PIN}\n{PIN}\n", text=True, check=True, capture_output=True,
            )  # fmt: skip
            runs = []
            for _ in range(args.runs):
                result = subprocess.run(
                    [sys.executable, "-c", ONE_RUN, str(data), PIN],
                    capture_output=True, text=True, env=env, check=True, timeout=120,
                )  # fmt: skip
                runs.append(json.loads(result.stdout.splitlines()[-1]))
        finally:
            agent.terminate()
            agent.wait(30)
            out.close()
    print("| phase | median | worst |\n| --- | --- | --- |")
    phases = ("imports", "to_dialog", "pin_to_dashboard", "total_less_typing", "rss_mb")
    for phase in (*phases, "language_to_window", "language_to_dashboard"):
        values = [run[phase] for run in runs]
        print(f"| {phase} | {statistics.median(values):.3f} | {max(values):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
