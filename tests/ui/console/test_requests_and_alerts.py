"""A child's request answered from the console, and its alert marked as reviewed."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from abhaya.ui.console.app import Console
from abhaya.ui.console.controllers.requests import Approval, minutes_for
from tests.agent.test_cli import AgentProcess
from tests.client.test_commands import _ask_through_proxy
from tests.ui.console.conftest import screenshot

KOLKATA = ZoneInfo("Asia/Kolkata")


@pytest.mark.parametrize(
    ("choice", "now", "minutes"),
    [
        (Approval.MINUTES_15, datetime(2026, 12, 1, 6, 0, tzinfo=UTC), 15),
        (Approval.HOUR, datetime(2026, 12, 1, 6, 0, tzinfo=UTC), 60),
        # 18:10 UTC is 23:40 in Kolkata: twenty minutes to the policy's midnight.
        (Approval.TODAY, datetime(2026, 12, 1, 18, 10, tzinfo=UTC), 20),
        (Approval.TODAY, datetime(2026, 12, 1, 18, 29, 59, tzinfo=UTC), 1),
        (Approval.ALWAYS, datetime(2026, 12, 1, 6, 0, tzinfo=UTC), None),
    ],
)
def test_how_long_each_approval_lasts(choice: Approval, now: datetime, minutes: int | None) -> None:
    assert minutes_for(choice, now, KOLKATA) == minutes


def _row_of(console: Console, site: str) -> int:
    return next(n for n, row in enumerate(console.requests.rows) if row.site == site)


def _shown(qtbot: QtBot, console: Console, site: str) -> None:
    def listed() -> bool:
        console.requests.refresh()
        qtbot.wait(150)
        return any(row.site == site for row in console.requests.rows)

    qtbot.waitUntil(listed, timeout=10_000)


def test_a_request_is_approved_for_15_minutes_and_the_proxy_lets_it_through(
    qtbot: QtBot, console: Console, agent: AgentProcess
) -> None:
    assert _ask_through_proxy(agent, "quiz.casino.example", "a school quiz on odds") == 200
    assert agent.status_of("https://quiz.casino.example/table") == 403
    qtbot.keyClick(console.window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert console.window.tabs.currentWidget() is console.requests_view
    _shown(qtbot, console, "quiz.casino.example")
    view = console.requests_view
    row = _row_of(console, "quiz.casino.example")
    assert view.rows.table.item(row, 3).text() == "a school quiz on odds"
    assert view.rows.table.item(row, 4).text() == "Waiting for you"
    view.rows.choose(row)
    screenshot(console.window, "requests-en", 1.0)
    qtbot.mouseClick(view.buttons[Approval.MINUTES_15], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: view.message.text().startswith("casino.example is allowed"), timeout=10_000
    )
    assert "for child until" in view.message.text()
    assert agent.status_of("https://quiz.casino.example/table") != 403


def test_a_request_is_denied_and_stays_blocked(
    qtbot: QtBot, console: Console, agent: AgentProcess
) -> None:
    assert _ask_through_proxy(agent, "dice.bet.example", "just curious") == 200
    console.window.tabs.setCurrentWidget(console.requests_view)
    _shown(qtbot, console, "dice.bet.example")
    view = console.requests_view
    view.rows.choose(_row_of(console, "dice.bet.example"))
    qtbot.mouseClick(view.deny_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: view.message.text() == "The request for dice.bet.example was refused.",
        timeout=10_000,
    )
    qtbot.waitUntil(lambda: all(r.site != "dice.bet.example" for r in console.requests.rows))
    assert agent.status_of("https://dice.bet.example/table") == 403


def test_an_alert_is_shown_in_words_and_marked_as_reviewed(
    qtbot: QtBot, console: Console, agent: AgentProcess
) -> None:
    assert _ask_through_proxy(agent, "alert.bet.example", "for the console alert") == 200
    console.window.tabs.setCurrentWidget(console.alerts_view)

    def listed() -> bool:
        console.alerts.refresh()
        qtbot.wait(150)
        return any("alert.bet.example" in row.what for row in console.alerts.rows)

    qtbot.waitUntil(listed, timeout=10_000)
    view = console.alerts_view
    row = next(n for n, a in enumerate(console.alerts.rows) if "alert.bet.example" in a.what)
    alert = console.alerts.rows[row]
    assert alert.severity == "For your information" and alert.reviewed == "No"
    view.rows.choose(row)
    assert "for the console alert" in view.detail.text()
    screenshot(console.window, "alerts-en", 1.0)
    qtbot.mouseClick(view.mark, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: all(a.id != alert.id for a in console.alerts.rows), timeout=10_000)
    view.show_reviewed.setChecked(True)
    qtbot.waitUntil(
        lambda: any(a.id == alert.id and a.reviewed == "Yes" for a in console.alerts.rows),
        timeout=10_000,
    )
