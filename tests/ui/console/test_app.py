"""The console against a real agent: sign-in, the dashboard, Activity, and a silent agent."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QElapsedTimer, Qt, QTimer
from pytestqt.qtbot import QtBot

from abhaya.agent.store import Event, EventKind, driver, open_store
from abhaya.agent.store.events import insert_events
from abhaya.ui.console.app import Console
from abhaya.ui.console.controllers.activity import PAGE_SIZE, FilterInput
from abhaya.ui.console.runner import SLOW_S
from abhaya.ui.console.service import ConsoleService
from abhaya.ui.console.texts import Texts
from tests.agent.test_cli import AgentProcess
from tests.client.test_commands import abhaya
from tests.ui.console.conftest import (
    data_dir,
    open_console,
    screenshot,
    sign_in,
    start_agent,
    stop_agent,
)


def test_first_start_asks_for_a_new_pin_twice_then_shows_the_dashboard(
    qtbot: QtBot, tmp_path: Path
) -> None:
    agent = start_agent(tmp_path, with_pin=False)
    try:
        console = open_console(qtbot, data_dir(agent))
        qtbot.waitUntil(lambda: console.dialog is not None, timeout=10_000)
        dialog = console.dialog
        assert dialog is not None and dialog.first
        assert dialog.windowTitle() == "Set a parent PIN"
        screenshot(dialog, "set-pin-en", 1.0)
        dialog.pin.setText("1357")
        dialog.again.setText("1358")
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
        assert dialog.message.text() == "The two PINs are not the same."
        dialog.pin.setText("12")
        dialog.again.setText("12")
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
        assert dialog.message.text() == "A PIN is 4 to 12 digits (0-9)."
        dialog.pin.setText("1357")
        dialog.again.setText("1357")
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: console.dashboard.state is not None, timeout=10_000)
        assert console.window.isVisible() and console.dialog is None
        assert console.dashboard_view.protection.text() == "Protection is on."
        console.close()
        # The PIN the console set is the agent's: the command line signs in with it.
        status = abhaya("status", data_dir=data_dir(agent), pin_input="1357\n")
        assert status.returncode == 0, status.stderr
    finally:
        stop_agent(agent)


def test_a_wrong_pin_is_refused_in_plain_words(qtbot: QtBot, agent: AgentProcess) -> None:
    console = open_console(qtbot, data_dir(agent))
    qtbot.waitUntil(lambda: console.dialog is not None, timeout=10_000)
    dialog = console.dialog
    assert dialog is not None
    dialog.pin.setText("0000")
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.message.text() != "Checking...", timeout=10_000)
    assert dialog.message.text() == "That PIN is not right. Try again."
    assert not console.window.isVisible()
    screenshot(dialog, "sign-in-wrong-en", 1.0)
    sign_in(qtbot, console)
    assert console.window.isVisible()
    console.close()


def test_the_dashboard_shows_protection_counts_and_top_sites(
    qtbot: QtBot, console: Console, agent: AgentProcess
) -> None:
    assert agent.status_of("https://adult.example/dashboard-check") == 403
    qtbot.waitUntil(lambda: _has_site(console, "adult.example"), timeout=15_000)
    view = console.dashboard_view
    assert view.protection.text() == "Protection is on."
    assert view.problems.text() == "No problems found."
    assert dict(view.today.rows())["Adult content"] >= 1
    assert dict(view.week.rows())["Adult content"] >= 1
    assert view.alerts.text().startswith("Alerts to review: ")
    assert view.requests.text() == "Requests waiting for you: 0"


def _has_site(console: Console, site: str) -> bool:
    console.dashboard.refresh()
    state = console.dashboard.state
    return state is not None and site in dict(state.top_sites)


def test_a_blocked_request_appears_in_activity_with_its_reason_in_words(
    qtbot: QtBot, console: Console, agent: AgentProcess
) -> None:
    assert agent.status_of("https://adult.example/activity-check?q=1") == 403
    view = console.activity_view
    console.window.tabs.setCurrentWidget(view)
    view.text.setText("activity-check")

    def shown() -> bool:
        if not console.activity.model.loading:
            qtbot.mouseClick(view.apply, Qt.MouseButton.LeftButton)
        qtbot.wait(200)
        return console.activity.model.rowCount() == 1

    qtbot.waitUntil(shown, timeout=20_000)
    model = console.activity.model
    assert [model.index(0, c).data() for c in (1, 2, 3, 4)] == [
        "Web page checked",
        "adult.example",
        "Adult content",
        "Blocked",
    ]
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_Down)
    text = view.detail.text()
    assert "https://adult.example/activity-check" in text
    assert f"Why:\n{Texts('en').reason('list')}" in text
    assert "{" not in text  # plain words, never raw JSON
    screenshot(console.window, "activity-en", 1.0)


def test_activity_pages_through_the_api_as_the_parent_scrolls(
    qtbot: QtBot, console: Console, agent: AgentProcess
) -> None:
    total = PAGE_SIZE * 2 + 37
    start = datetime.now(UTC) - timedelta(hours=1)
    events = [
        Event(
            time=start + timedelta(seconds=n),
            kind=EventKind.VERDICT,
            profile="child",
            category="gambling",
            action="block",
            reason="list",
            domain=f"site{n}.paging.example",
            url=f"https://site{n}.paging.example/",
        )
        for n in range(total)
    ]
    store = open_store(data_dir(agent))
    with contextlib.closing(store.connect()) as conn, driver.transaction(conn):
        insert_events(conn, events)
    console.activity.apply(FilterInput(text="paging.example", category="gambling"))
    model = console.activity.model
    qtbot.waitUntil(lambda: model.rowCount() == PAGE_SIZE and not model.loading, timeout=10_000)
    assert model.canFetchMore()
    view = console.activity_view
    console.window.tabs.setCurrentWidget(view)
    while model.rowCount() < total:
        before = model.rowCount()
        view.table.scrollToBottom()  # Qt asks fetchMore itself near the end
        qtbot.waitUntil(lambda b=before: model.rowCount() > b, timeout=10_000)
    qtbot.waitUntil(lambda: model.exhausted, timeout=10_000)
    sites = [model.index(row, 2).data() for row in range(model.rowCount())]
    assert sites == [f"site{n}.paging.example" for n in reversed(range(total))]
    assert not model.canFetchMore()


def test_the_banner_shows_when_the_agent_stops_and_the_window_stays_live(
    qtbot: QtBot, tmp_path: Path
) -> None:
    agent = start_agent(tmp_path, with_pin=True)
    try:
        console = open_console(qtbot, data_dir(agent))
        sign_in(qtbot, console)
        assert not console.window.banner.isVisible()
    finally:
        stop_agent(agent)
    # A killed agent leaves its api.json behind: the port no longer answers.
    console.dashboard.refresh()
    qtbot.waitUntil(console.window.banner.isVisible, timeout=10_000)
    assert console.window.banner.text().startswith("Abhaya's agent is not answering")
    assert "Abhaya's agent is not answering." in console.dashboard_view.problems.text()
    screenshot(console.window, "dashboard-agent-stopped-en", 1.0)
    console.close()


@pytest.fixture
def silent_agent(tmp_path: Path) -> Iterator[Path]:
    """A data folder whose api.json names a loopback port that accepts and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        (tmp_path / "api.json").write_text(
            json.dumps({"host": "127.0.0.1", "port": port, "pid": 1})
        )
        yield tmp_path


def test_a_silent_agent_shows_the_banner_and_never_freezes_the_window(
    qtbot: QtBot, silent_agent: Path
) -> None:
    console = open_console(qtbot, silent_agent, timeout=SLOW_S + 1.5)
    console.window.show()
    gaps: list[int] = []
    clock = QElapsedTimer()
    clock.start()
    ticker = QTimer()
    ticker.setInterval(20)
    ticker.timeout.connect(lambda: gaps.append(clock.restart()))
    ticker.start()
    began = time.monotonic()
    qtbot.waitUntil(console.window.banner.isVisible, timeout=int(SLOW_S * 1000) + 5_000)
    ticker.stop()
    assert time.monotonic() - began >= SLOW_S - 0.3
    assert console.runner.pending == 1  # the question is still out, on a worker thread
    assert len(gaps) > SLOW_S / 0.02 / 2
    assert max(gaps[1:]) < 100  # the UI thread never waited on the API
    console.close()  # waits for the worker, whose call ends at the service's timeout


def test_a_restarted_agent_is_found_again_and_asks_for_the_pin(
    qtbot: QtBot, tmp_path: Path
) -> None:
    agent = start_agent(tmp_path, with_pin=True)
    console = open_console(qtbot, data_dir(agent))
    try:
        sign_in(qtbot, console)
        agent.process.terminate()
        assert agent.process.wait(30) == 0
        agent = AgentProcess(tmp_path, tmp_path / "policy" / "policy.toml")  # a new port
        console.dashboard.refresh()
        qtbot.waitUntil(lambda: console.dialog is not None, timeout=10_000)
        assert console.dialog is not None
        assert (
            console.dialog.message.text()
            == "Your session ended. Sign in again with the parent PIN."
        )
        first = console.dashboard.state
        sign_in(qtbot, console)
        qtbot.waitUntil(lambda: console.dashboard.state is not first, timeout=10_000)
        assert not console.window.banner.isVisible()
    finally:
        console.close()
        stop_agent(agent)


def test_a_pin_cleared_while_signing_in_turns_the_dialog_into_set_a_pin(
    qtbot: QtBot, tmp_path: Path
) -> None:
    agent = start_agent(tmp_path, with_pin=True)
    cancelled: list[bool] = []
    console = Console(ConsoleService(data_dir(agent)), Texts("en"), lambda: cancelled.append(True))
    qtbot.addWidget(console.window)
    try:
        console.start()
        qtbot.waitUntil(lambda: console.dialog is not None, timeout=10_000)
        assert console.dialog is not None and not console.dialog.first
        reset = abhaya("reset-pin", data_dir=data_dir(agent))
        assert reset.returncode == 0, reset.stderr
        console.dialog.pin.setText("2468")
        qtbot.keyClick(console.dialog.pin, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: console.dialog is not None and console.dialog.first, timeout=10_000)
        assert cancelled == []  # the replaced dialog did not count as the parent cancelling
        console.dialog.reject()
        assert cancelled == [True]
    finally:
        console.close()
        stop_agent(agent)
