"""The gap report: a run that ended without shutting down is reported at the next start, with
the times protection was off; a clean stop is not.  On a real store, and on a real `abhaya run`
killed with SIGKILL."""

from __future__ import annotations

import contextlib
import json
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest

from abhaya.agent.heartbeat import (
    ALIVE_KEY,
    GAP_ACTION,
    GAP_ALERT,
    Heartbeat,
    beat,
    begin_run,
    end_run,
)
from abhaya.agent.store import EventKind, Store, open_store
from abhaya.agent.store import settings as stored
from abhaya.agent.store.alerts import AlertSeverity, list_alerts
from abhaya.agent.store.queries import EventFilter, events_page
from tests.conftest import write_policy

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
ABHAYA = [sys.executable, "-m", "abhaya.agent.cli"]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    original = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        return open_store(tmp_path / "data")
    finally:
        keyring.set_keyring(original)


def _count(store: Store, table: str) -> int:
    with contextlib.closing(store.connect(read_only=True)) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_first_run_and_clean_stop_report_no_gap(store: Store) -> None:
    with contextlib.closing(store.connect()) as conn:
        assert begin_run(conn, T0) is None
        beat(conn, T0 + timedelta(seconds=5))
        end_run(conn, T0 + timedelta(seconds=7))
        assert begin_run(conn, T0 + timedelta(minutes=3)) is None
    assert _count(store, "alerts") == 0


def test_a_run_without_a_clean_stop_is_a_gap_from_its_last_beat(store: Store) -> None:
    events_before = _count(store, "events")
    with contextlib.closing(store.connect()) as conn:
        begin_run(conn, T0)
        for seconds in (5, 10, 15):
            beat(conn, T0 + timedelta(seconds=seconds))
        # Beats update one row: no event per beat.
        assert _count(store, "events") == events_before
        gap = begin_run(conn, T0 + timedelta(minutes=10))
        assert gap is not None
        assert (gap.since, gap.until) == (T0 + timedelta(seconds=15), T0 + timedelta(minutes=10))
        # This run's record is begun: a second start right away finds no gap of its own.
        assert stored.get_time(conn, ALIVE_KEY) == T0 + timedelta(minutes=10)
    with contextlib.closing(store.connect(read_only=True)) as conn:
        events = events_page(conn, EventFilter(kinds=(EventKind.PROTECTION,))).events
        alerts = list_alerts(conn)
    assert [e.event.action for e in events] == [GAP_ACTION]
    assert "from about 2026-05-01 08:00:15 UTC to 2026-05-01 08:10:00 UTC" in gap.message
    assert "9 min 45 s" in gap.message
    assert events[0].event.detail == gap.message
    [alert] = alerts
    assert alert.alert.kind == GAP_ALERT and alert.alert.severity is AlertSeverity.WARNING
    assert json.loads(alert.alert.detail) == {
        "from": "2026-05-01T08:00:15+00:00",
        "to": "2026-05-01T08:10:00+00:00",
    }


def test_heartbeat_thread_beats_and_marks_a_clean_stop(store: Store) -> None:
    moments = iter(T0 + timedelta(seconds=n) for n in range(1000))
    heartbeat = Heartbeat(store.connect, clock=lambda: next(moments), interval=0.05)
    heartbeat.start()
    time.sleep(0.3)
    heartbeat.close()
    with contextlib.closing(store.connect()) as conn:
        alive = stored.get_time(conn, ALIVE_KEY)
        assert alive is not None and alive >= T0 + timedelta(seconds=3)  # several beats
        assert begin_run(conn, T0 + timedelta(hours=1)) is None  # stopped cleanly


def _start(data_dir: Path, policy: Path, out: Path) -> subprocess.Popen[bytes]:
    with out.open("w") as stdout:
        process = subprocess.Popen(
            [*ABHAYA, "run", "--listen", "127.0.0.1:0", "--data-dir", str(data_dir),
             "--policy", str(policy)],
            stdout=stdout,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if re.search(r"filtering on http://127\.0\.0\.1:\d+", out.read_text()):
            return process
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"the agent did not start: {out.read_text()}")


def test_sigkill_then_restart_reports_the_gap_with_its_times(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    policy = write_policy(tmp_path / "policy")
    first_started = datetime.now(UTC)
    first = _start(data_dir, policy, tmp_path / "first.txt")
    time.sleep(0.5)
    killed_at = datetime.now(UTC)
    first.send_signal(signal.SIGKILL)
    first.wait()
    time.sleep(1.0)
    restarted_at = datetime.now(UTC)
    second = _start(data_dir, policy, tmp_path / "second.txt")
    ready_at = datetime.now(UTC)
    second.send_signal(signal.SIGTERM)
    assert second.wait(30) == 0
    assert "Protection was off from about" in (tmp_path / "second.txt").read_text()

    store = open_store(data_dir)
    with contextlib.closing(store.connect(read_only=True)) as conn:
        events = events_page(conn, EventFilter(kinds=(EventKind.PROTECTION,))).events
        alerts = [a.alert for a in list_alerts(conn) if a.alert.kind == GAP_ALERT]
    gaps = [e.event for e in events if e.event.action == GAP_ACTION]
    assert len(gaps) == 1 and len(alerts) == 1
    times = json.loads(alerts[0].detail)
    since, until = (datetime.fromisoformat(times[name]) for name in ("from", "to"))
    # The gap starts at the first run's last beat (before the kill) and ends at the restart.
    assert first_started <= since <= killed_at
    assert restarted_at <= until <= ready_at
    assert gaps[0].time == until

    # The second run stopped cleanly: a third start reports nothing new.
    third = _start(data_dir, policy, tmp_path / "third.txt")
    third.send_signal(signal.SIGTERM)
    assert third.wait(30) == 0
    with contextlib.closing(store.connect(read_only=True)) as conn:
        assert len([a for a in list_alerts(conn) if a.alert.kind == GAP_ALERT]) == 1
