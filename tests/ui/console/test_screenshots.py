"""Every page built so far, in English and Hindi, at 100% and 150%: artefacts a reviewer opens.

Each is rendered from the real window signed in to a real agent that has blocked a request,
and each check reads the words on the page, so an untranslated or empty page fails here.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from abhaya.ui.console.texts import Texts
from tests.agent.test_cli import AgentProcess
from tests.client.test_commands import _ask_through_proxy
from tests.ui.console.conftest import data_dir, open_console, screenshot, sign_in

SCALES = (1.0, 1.5)


@pytest.mark.parametrize("language", ["en", "hi"])
def test_every_page_is_rendered_in_each_language_and_scale(
    qtbot: QtBot, agent: AgentProcess, language: str
) -> None:
    texts = Texts(language)
    assert agent.status_of(f"https://adult.example/screenshot-{language}") == 403
    assert _ask_through_proxy(agent, f"{language}.bet.example", "homework") == 200
    console = open_console(qtbot, data_dir(agent), language)
    qtbot.waitUntil(lambda: console.dialog is not None, timeout=10_000)
    assert console.dialog is not None
    assert console.dialog.windowTitle() == texts("signin.title")
    for scale in SCALES:
        screenshot(console.dialog, f"sign-in-{language}", scale)
    sign_in(qtbot, console)

    def counted() -> bool:
        console.dashboard.refresh()
        qtbot.wait(100)
        state = console.dashboard.state
        return state is not None and bool(state.today) and bool(state.top_sites)

    qtbot.waitUntil(counted, timeout=15_000)
    view = console.dashboard_view
    assert view.protection.text() == texts("dashboard.on")
    assert texts.category("adult") in dict(view.today.rows())
    console.window.resize(1100, 720)
    for scale in SCALES:
        path = screenshot(console.window, f"dashboard-{language}", scale)
        assert path.stat().st_size > 20_000

    activity = console.activity_view
    console.window.tabs.setCurrentWidget(activity)
    qtbot.waitUntil(lambda: console.activity.model.rowCount() > 0, timeout=10_000)
    activity.table.setFocus()
    qtbot.keyClick(activity.table, Qt.Key.Key_Down)
    assert texts("activity.detail_why") in activity.detail.text()
    qtbot.waitUntil(lambda: not activity.site_box.isHidden(), timeout=10_000)
    assert activity.block_site.text() == texts("site_rules.block")
    assert activity.reason.itemText(0) == texts("activity.any")
    for scale in SCALES:
        screenshot(console.window, f"activity-{language}", scale)
    qtbot.mouseClick(activity.block_site, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: activity.confirm_box is not None and activity.confirm_box.isVisible())
    assert activity.confirm_box is not None
    assert "bet.example" in activity.site_heading.text()
    assert "bet.example" in activity.confirm_box.text()
    for scale in SCALES:
        screenshot(activity.confirm_box, f"activity-confirm-{language}", scale)
    qtbot.keyClick(activity.confirm_box, Qt.Key.Key_Escape)

    pages = {"alerts": console.alerts_view, "requests": console.requests_view}
    for name, page in pages.items():
        console.window.tabs.setCurrentWidget(page)
        qtbot.waitUntil(lambda p=page: p.rows.table.rowCount() > 0, timeout=10_000)
        page.rows.choose(0)
        for scale in SCALES:
            screenshot(console.window, f"{name}-{language}", scale)
    assert console.requests_view.rows.table.item(0, 4).text() == texts("status.pending")
    console.close()
