"""Measure the Activity page on a store of a million events, through a real agent's API.

Run by hand (never in CI):  .venv/bin/python bench/ui/activity.py [--events 1000000] [--runs 5]

1. The store: N generated events written with the store's own `EventWriter`, in batches, into a
   data dir kept between runs (`$TMPDIR/abhaya-bench-ui-activity-N`; `--rebuild` makes it anew).
   Its key is in a key file there (keyring's `fail` backend), so no OS keyring is touched, and
   the agent it is handed to later finds the key file first.  The events span the 90 days
   before the build; the policy keeps ten years of events, so retention never eats the cache.
2. A real `abhaya run` on that data dir (with a PIN set) and the real `Console`, offscreen,
   signed in as a parent would.
3. First page: the time from the parent's "Apply" (`ActivityController.apply`) until the rows
   are in the table and its viewport has been painted; unfiltered, then per filter.  `--runs`
   times each, median and worst.
4. Scrolling: a QTimer heartbeat (every 5 ms) on the UI thread records when it runs while
   another timer drags the table to the bottom every 16 ms (a scroll bar held down), so Qt's
   `fetchMore` asks for page after page, until 10,000 rows are in.  The longest gap between two
   heartbeats is the longest the UI thread was blocked (plus up to one 5 ms interval).
See README.md.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

PIN = "2468"
SEED = 20261201
SCROLL_ROWS = 10_000
HEARTBEAT_MS = 5
DRAG_MS = 16
POLICY = """\
version = 1
timezone = "Asia/Kolkata"
default_profile = "asha"

[profiles.asha]
[profiles.ravi]
[profiles.meera]

[events]
retention_days = 3650
"""
CATEGORIES = ("adult", "gambling", "violence", "self_harm", "games", "social", "anonymizers")
REASONS = ("list", "list", "list", "keyword", "custom_rule", "schedule", "safe_search")
ACTIONS = ("block", "block", "warn", "rewrite")
PROFILES = ("asha", "asha", "ravi", "ravi", "ravi", "meera")  # meera: 1 in 6
APPS = ("firefox", "chrome", "steam", "discord", "")


def build_store(data: Path, count: int, batch: int = 50_000) -> None:
    """`count` events over the 90 days before now, through the store's writer, in batches."""
    import keyring
    import keyring.backends.fail

    from abhaya.agent.store import Event, EventKind, EventWriter, open_store

    keyring.set_keyring(keyring.backends.fail.Keyring())  # key file: keep the keyring out
    rng = random.Random(SEED)
    store = open_store(data)
    writer = EventWriter(store.connect, queue_size=batch + 1, retention=None)
    writer.start()
    end = datetime.now(UTC)
    step = timedelta(days=90) / count
    domains = [f"site{n}.example" for n in range(5000)]
    started = time.perf_counter()
    for first in range(0, count, batch):
        for n in range(first, min(first + batch, count)):
            domain = rng.choice(domains)
            verdict = rng.random() < 0.98
            event = Event(
                time=end - step * (count - n),
                kind=EventKind.VERDICT if verdict else EventKind.PIN_FAILED,
                profile=rng.choice(PROFILES),
                category=rng.choice(CATEGORIES) if verdict else "",
                action=rng.choice(ACTIONS) if verdict else "",
                reason=rng.choice(REASONS) if verdict else "",
                domain=domain,
                url=f"https://{domain}/page/{n % 1000}",
                rule=domain,
                app=rng.choice(APPS),
                detail="domain is on a block list",
            )
            if not writer.submit(event):
                raise RuntimeError("the writer dropped an event; the queue should hold a batch")
        if not writer.flush(timeout=600):
            raise RuntimeError("the writer did not flush")
        print(f"  {min(first + batch, count):,} events", file=sys.stderr)
    writer.close()
    print(f"built in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def cached_store(count: int, rebuild: bool) -> Path:
    """The data dir holding `count` events, built once and kept (complete ones only)."""
    folder = Path(tempfile.gettempdir()) / f"abhaya-bench-ui-activity-{count}"
    data = folder / "data"
    if rebuild and folder.exists():
        shutil.rmtree(folder)
    if not (folder / "complete").exists():
        if folder.exists():
            shutil.rmtree(folder)  # a build that was cut off
        print(f"building a store of {count:,} events in {folder} ...", file=sys.stderr)
        build_store(data, count)
        (folder / "complete").write_text("built\n")
    (folder / "policy.toml").write_text(POLICY, encoding="utf-8")
    return folder


def start_agent(folder: Path) -> subprocess.Popen[bytes]:
    data = folder / "data"
    (data / "api.json").unlink(missing_ok=True)
    log = (folder / "agent.txt").open("w")
    agent = subprocess.Popen(
        [sys.executable, "-m", "abhaya.agent.cli", "run", "--listen", "127.0.0.1:0",
         "--data-dir", str(data), "--policy", str(folder / "policy.toml")],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not (data / "api.json").exists():
        if agent.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the agent did not start: see {folder / 'agent.txt'}")
        time.sleep(0.1)
    subprocess.run(
        [sys.executable, "-m", "abhaya.agent.cli", "set-pin", "--data-dir", str(data)],
        input=f"{PIN}\n{PIN}\n".encode(),
        check=False,
        capture_output=True,
    )  # fmt: skip  (a PIN set by an earlier run stays; set-pin then refuses, which is fine)
    return agent


class Bench:
    """The console signed in to the agent, and the two measurements."""

    def __init__(self, data: Path) -> None:
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication

        from abhaya.ui.console.app import Console
        from abhaya.ui.console.service import ConsoleService
        from abhaya.ui.console.texts import Texts

        self.app = QApplication.instance() or QApplication([])
        self.console = Console(ConsoleService(data), Texts("en"), on_cancel=lambda: None)
        self.console.session.pin_needed.connect(lambda _: QTimer.singleShot(0, self._type_pin))
        self.console.start()
        self.wait(lambda: self.console.dashboard.state is not None, 60)
        self.console.window.resize(1100, 720)
        self.console.window.tabs.setCurrentWidget(self.console.activity_view)
        self.wait(lambda: self.model.rowCount() > 0 and not self.model.loading, 60)

    @property
    def model(self):  # type: ignore[no-untyped-def]
        return self.console.activity.model

    def _type_pin(self) -> None:
        dialog = self.console.dialog
        if dialog is not None:
            dialog.pin.setText(PIN)
            dialog.ok.click()

    def wait(self, done: Callable[[], bool], timeout: float) -> None:
        """Run the event loop until `done()`, looked at every millisecond."""
        from PySide6.QtCore import QEventLoop, QTimer

        if done():
            return
        loop = QEventLoop()
        poll = QTimer()
        poll.setInterval(1)
        poll.timeout.connect(lambda: loop.quit() if done() else None)
        poll.start()
        QTimer.singleShot(round(timeout * 1000), loop.quit)
        loop.exec()
        poll.stop()
        if not done():
            raise TimeoutError("the console did not get there in time")

    def first_page(self, chosen: object) -> float:
        """Seconds from Apply to the first page painted in the table."""
        table = self.console.activity_view.table
        started = time.perf_counter()
        self.console.activity.apply(chosen)  # type: ignore[arg-type]
        self.wait(lambda: not self.model.loading, 30)
        table.viewport().repaint()
        return time.perf_counter() - started

    def scroll(self) -> tuple[float, float, float, float, int]:
        """Scrolling from the top to 10,000 rows: (longest gap between heartbeats s, the UI
        thread's own CPU time in the gap that used most s, the whole process's CPU time in
        the longest gap s, seconds taken, rows).

        The CPU times tell work done on the UI thread (or by a worker holding the GIL) from
        time the process was not running at all (other processes had the cores).
        """
        from PySide6.QtCore import QEventLoop, QTimer

        from abhaya.ui.console.controllers.activity import FilterInput

        self.first_page(FilterInput())
        table = self.console.activity_view.table
        ticks: list[tuple[float, float, float]] = []
        loop = QEventLoop()
        heartbeat, drag = QTimer(), QTimer()
        heartbeat.setInterval(HEARTBEAT_MS)
        drag.setInterval(DRAG_MS)
        heartbeat.timeout.connect(
            lambda: ticks.append((time.perf_counter(), time.thread_time(), time.process_time()))
        )

        def dragged() -> None:
            table.scrollToBottom()
            if self.model.rowCount() >= SCROLL_ROWS or self.model.exhausted:
                loop.quit()

        drag.timeout.connect(dragged)
        started = time.perf_counter()
        ticks.append((started, time.thread_time(), time.process_time()))
        heartbeat.start()
        drag.start()
        QTimer.singleShot(300_000, loop.quit)
        loop.exec()
        heartbeat.stop()
        drag.stop()
        took = time.perf_counter() - started
        pairs = list(zip(ticks, ticks[1:], strict=False))
        a, b = max(pairs, key=lambda pair: pair[1][0] - pair[0][0])
        most_ui_cpu = max(b[1] - a[1] for a, b in pairs)
        return b[0] - a[0], most_ui_cpu, b[2] - a[2], took, self.model.rowCount()

    def close(self) -> None:
        self.console.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true", help="build the cached store anew")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    folder = cached_store(args.events, args.rebuild)
    agent = start_agent(folder)
    try:
        from abhaya.ui.console.controllers.activity import FilterInput

        bench = Bench(folder / "data")
        filters = {
            "first page, no filter": FilterInput(),
            "first page, category": FilterInput(category="gambling"),
            "first page, why (reason)": FilterInput(reason="custom_rule"),
            "first page, child (profile)": FilterInput(profile="meera"),
            "first page, child + category": FilterInput(profile="meera", category="games"),
            "first page, kind (2% of rows)": FilterInput(kind="pin_failed"),
            "first page, search text": FilterInput(text="site4999.example"),
        }
        rows = []
        for name, chosen in filters.items():
            times = [bench.first_page(chosen) for _ in range(args.runs)]
            rows.append((f"{name} ms", statistics.median(times) * 1e3, max(times) * 1e3))
        scrolls = [bench.scroll() for _ in range(args.runs)]
        if any(count < SCROLL_ROWS for *_, count in scrolls):
            raise RuntimeError("the table ran out of rows before 10,000")
        for number, name in (
            (0, "scrolling 10,000 rows: longest gap between heartbeats ms"),
            (1, "scrolling 10,000 rows: most UI-thread CPU within one gap ms"),
            (2, "scrolling 10,000 rows: the whole process's CPU in the longest gap ms"),
        ):
            values = [run[number] * 1e3 for run in scrolls]
            rows.append((name, statistics.median(values), max(values)))
        spans = [run[3] for run in scrolls]
        rows.append(("time to scroll 10,000 rows s", statistics.median(spans), max(spans)))
        load = os.getloadavg()[0]
        bench.close()
    finally:
        agent.terminate()
        agent.wait(30)
    print(f"\n{args.events:,} events, {args.runs} runs, load average {load:.1f}\n")
    print("| measure | median | worst |\n| --- | ---: | ---: |")
    for name, median, worst in rows:
        print(f"| {name} | {median:.1f} | {worst:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
