"""The console's language changed on the Settings page applies at once, signed in, same page.

The real console against the module's real agent: the parent picks Hindi, and the window is
rebuilt in Hindi (every tab, the Settings page's own words) with no sign-in dialog, on the same
page, its dashboard refilled through the same session; the replaced console is let go once its
calls are back; and back to English the same way.  The host owns the windows (it deletes the
replaced ones), so they are not handed to qtbot.
"""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from abhaya.ui.console.app import Console
from abhaya.ui.console.host import ConsoleHost
from abhaya.ui.console.service import ConsoleService
from abhaya.ui.console.settings import load_settings
from abhaya.ui.console.texts import Texts
from tests.agent.test_cli import AgentProcess
from tests.ui.console.conftest import data_dir, screenshot, sign_in

SCALES = (1.0, 1.5)


def _choose_language(qtbot: QtBot, host: ConsoleHost, language: str) -> Console:
    old = host.console
    old.window.tabs.setCurrentWidget(old.settings_view)
    combo = old.settings_view.language
    with qtbot.waitSignal(host.switched, timeout=5_000):
        combo.setCurrentIndex(combo.findData(language))
        combo.activated.emit(combo.currentIndex())
    new = host.console
    assert new is not old and new.texts.language == language
    return new


def _check_switched(qtbot: QtBot, host: ConsoleHost, old: Console, new: Console) -> None:
    texts = new.texts
    assert new.window.isVisible() and not old.window.isVisible()
    assert new.window.tabs.currentWidget() is new.settings_view
    assert new.window.geometry() == old.window.geometry()
    tabs = new.window.tabs
    assert tabs.tabText(tabs.indexOf(new.alerts_view)) == texts("tabs.alerts")
    name = texts("settings.hindi" if texts.language == "hi" else "settings.english")
    assert new.settings_view.language_message.text() == texts(
        "settings.language_saved", language=name
    )
    assert new.settings_view.language.currentData() == texts.language
    # The same session: the page and the dashboard refill with no sign-in asked for.
    expected = texts("settings.retention", days=90, alert_days=365)
    qtbot.waitUntil(lambda: new.settings_view.retention.text() == expected, timeout=10_000)
    qtbot.waitUntil(lambda: new.dashboard.state is not None, timeout=10_000)
    assert new.dialog is None and old.dialog is None
    qtbot.waitUntil(lambda: host.retiring == 0, timeout=10_000)
    assert host.last_switch_s is not None


def test_the_language_changes_at_once_without_signing_in_again(
    qtbot: QtBot, agent: AgentProcess, tmp_path: Path
) -> None:
    settings = tmp_path / "config" / "console.toml"
    host = ConsoleHost(ConsoleService(data_dir(agent)), "en", settings_path=settings)
    first = host.console
    host.start()
    try:
        _switch_there_and_back(qtbot, host, first, settings)
    finally:
        host.close()


def _switch_there_and_back(qtbot: QtBot, host: ConsoleHost, first: Console, settings: Path) -> None:
    sign_in(qtbot, first)
    first.window.resize(1100, 720)

    hindi = _choose_language(qtbot, host, "hi")
    assert load_settings(settings).language == "hi"
    _check_switched(qtbot, host, first, hindi)
    assert hindi.window.windowTitle() == Texts("hi")("app.title")
    for scale in SCALES:
        screenshot(hindi.window, "settings-switched-hi", scale)

    english = _choose_language(qtbot, host, "en")
    assert load_settings(settings).language == "en"
    _check_switched(qtbot, host, hindi, english)
    for scale in SCALES:
        screenshot(english.window, "settings-switched-en", scale)

    # Choosing the language already in use saves it and says so, with nothing rebuilt.
    english.settings.set_language("en")
    assert host.console is english
    assert english.settings_view.language_message.text().startswith("Saved.")
