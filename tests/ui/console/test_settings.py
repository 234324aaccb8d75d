"""The Settings page against a real agent: the PIN changed and used, retention shown and saved,
language, About (the language changed live: test_host.py).

The PIN change has an agent of its own (the module's shared agent keeps the test PIN for the
other tests); the console signs in with the new PIN afterwards, and the old one is refused.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from abhaya.ui.console.app import Console
from abhaya.ui.console.service import CALL_TIMEOUT_S, ConsoleService
from abhaya.ui.console.settings import ConsoleSettings, load_settings, save_settings
from abhaya.ui.console.texts import Texts
from tests.agent.test_cli import AgentProcess
from tests.client.test_commands import PIN, abhaya
from tests.ui.console.conftest import data_dir, screenshot, sign_in, start_agent, stop_agent
from tests.ui.console.test_rules_page import _DefaultPolicyAgent

NEW_PIN = "86420"
SCALES = (1.0, 1.5)


def _open(qtbot: QtBot, folder: Path, settings: Path, language: str = "en") -> Console:
    service = ConsoleService(folder, CALL_TIMEOUT_S)
    console = Console(service, Texts(language), settings_path=settings)
    qtbot.addWidget(console.window)
    console.start()
    return console


def _change(qtbot: QtBot, console: Console, old: str, new: str, again: str) -> str:
    view = console.settings_view
    view.old_pin.setText(old)
    view.new_pin.setText(new)
    view.again_pin.setText(again)
    qtbot.mouseClick(view.change, Qt.MouseButton.LeftButton)
    checking = Texts("en")("signin.checking")
    qtbot.waitUntil(lambda: view.pin_message.text() != checking, timeout=10_000)
    return view.pin_message.text()


def test_the_pin_is_changed_and_the_new_one_signs_in(qtbot: QtBot, tmp_path: Path) -> None:
    agent = start_agent(tmp_path / "agent", with_pin=True)
    settings = tmp_path / "config" / "console.toml"
    try:
        console = _open(qtbot, data_dir(agent), settings)
        sign_in(qtbot, console)
        console.window.tabs.setCurrentWidget(console.settings_view)
        assert _change(qtbot, console, PIN, NEW_PIN, "86421") == "The two PINs are not the same."
        assert _change(qtbot, console, PIN, "12", "12") == "A PIN is 4 to 12 digits (0-9)."
        assert _change(qtbot, console, "0000", NEW_PIN, NEW_PIN) == "The current PIN is not right."
        assert console.dialog is None and console.service.signed_in  # still signed in
        changed = _change(qtbot, console, PIN, NEW_PIN, NEW_PIN)
        assert changed.startswith("The PIN is changed.")
        assert console.settings_view.old_pin.text() == ""
        # The console goes on with the fresh session the agent gave it.
        console.dashboard.state = None
        console.dashboard.refresh()
        qtbot.waitUntil(lambda: console.dashboard.state is not None, timeout=10_000)
        assert console.dialog is None
        console.close()

        again = _open(qtbot, data_dir(agent), settings)
        qtbot.waitUntil(lambda: again.dialog is not None, timeout=10_000)
        dialog = again.dialog
        assert dialog is not None
        dialog.pin.setText(PIN)
        qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: dialog.message.text() != "Checking...", timeout=10_000)
        assert dialog.message.text() == "That PIN is not right. Try again."
        sign_in(qtbot, again, NEW_PIN)
        assert again.window.isVisible()
        again.close()
    finally:
        stop_agent(agent)


@pytest.mark.parametrize("language", ["en", "hi"])
def test_retention_and_about_are_shown(
    qtbot: QtBot, agent: AgentProcess, tmp_path: Path, language: str
) -> None:
    texts = Texts(language)
    settings = tmp_path / "config" / "console.toml"
    console = _open(qtbot, data_dir(agent), settings, language)
    sign_in(qtbot, console)
    view = console.settings_view
    console.window.tabs.setCurrentWidget(view)
    expected = texts("settings.retention", days=90, alert_days=365)
    qtbot.waitUntil(lambda: view.retention.text() == expected, timeout=10_000)
    assert "policy.toml" in view.retention_note.text()
    assert (view.retention_days.value(), view.alert_days.value()) == (90, 365)
    assert view.retention_days.suffix() == texts("retention.days_suffix")
    assert (view.retention_days.maximum(), view.alert_days.minimum()) == (3650, 1)
    assert view.save_days.isEnabled() and view.retention_days.isEnabled()
    about = view.about.text()
    assert "Apache-2.0" in about and "LGPL-3.0" in about
    assert "MIT" in about and "BSD-2-Clause" in about  # the text encoder's and open_nsfw's
    console.window.resize(1100, 720)
    for scale in SCALES:
        screenshot(console.window, f"settings-{language}", scale)
    console.close()


def test_the_settings_file_round_trips_and_a_damaged_one_means_the_defaults(
    tmp_path: Path,
) -> None:
    path = tmp_path / "abhaya" / "console.toml"
    assert load_settings(path) == ConsoleSettings("en")
    save_settings(path, ConsoleSettings("hi"))
    assert load_settings(path) == ConsoleSettings("hi")
    path.write_text('language = "fr"\n', encoding="utf-8")
    assert load_settings(path) == ConsoleSettings("en")
    path.write_bytes(b"\xff\x00 not toml")
    assert load_settings(path) == ConsoleSettings("en")
    with pytest.raises(ValueError, match="no console language 'fr'"):
        save_settings(path, ConsoleSettings("fr"))


def test_the_language_that_cannot_be_saved_is_said(
    qtbot: QtBot, agent: AgentProcess, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    console = _open(qtbot, data_dir(agent), blocker / "console.toml")
    console.settings.set_language("hi")
    assert console.settings_view.language_message.text().startswith("Could not save the language: ")
    console.close()


def test_a_skipped_walkthrough_is_remembered_across_a_language_change(
    qtbot: QtBot, agent: AgentProcess, tmp_path: Path
) -> None:
    settings = tmp_path / "console.toml"
    save_settings(settings, ConsoleSettings("en", setup_skipped=True))
    assert load_settings(settings) == ConsoleSettings("en", setup_skipped=True)
    console = _open(qtbot, data_dir(agent), settings)
    console.settings.set_language("hi")
    assert load_settings(settings) == ConsoleSettings("hi", setup_skipped=True)
    console.close()


def _saved_days(qtbot: QtBot, console: Console) -> str:
    """Click Save and wait for the agent's answer beside the fields."""
    view = console.settings_view
    qtbot.mouseClick(view.save_days, Qt.MouseButton.LeftButton)
    saving = Texts("en")("retention.saving")
    qtbot.waitUntil(lambda: view.retention_message.text() not in ("", saving), timeout=10_000)
    return view.retention_message.text()


def _events_table(console: Console) -> dict[str, object]:
    events = tomllib.loads(console.service.policy()["text"]).get("events", {})
    assert isinstance(events, dict)
    return events


def test_retention_changed_on_the_page_is_in_the_agents_policy_and_a_refusal_is_said(
    qtbot: QtBot, tmp_path: Path
) -> None:
    agent = start_agent(tmp_path / "agent", with_pin=True)
    texts = Texts("en")
    try:
        console = _open(qtbot, data_dir(agent), tmp_path / "console.toml")
        sign_in(qtbot, console)
        view = console.settings_view
        console.window.tabs.setCurrentWidget(view)
        qtbot.waitUntil(view.save_days.isEnabled, timeout=10_000)
        assert _saved_days(qtbot, console) == texts("retention.unchanged")
        assert "events" not in tomllib.loads(console.service.policy()["text"])

        view.retention_days.setFocus()  # typed, as a parent would
        view.retention_days.selectAll()
        qtbot.keyClicks(view.retention_days, "30")
        view.alert_days.setValue(400)
        assert _saved_days(qtbot, console) == texts("retention.saved", days=30, alert_days=400)
        assert _events_table(console) == {"retention_days": 30, "alert_retention_days": 400}
        shown = texts("settings.retention", days=30, alert_days=400)
        qtbot.waitUntil(lambda: view.retention.text() == shown, timeout=10_000)

        console.settings.save_retention(5000, 400)  # past the fields' limit: the agent refuses
        qtbot.waitUntil(
            lambda: view.retention_message.text().startswith("The agent did not accept"),
            timeout=10_000,
        )
        assert "retention_days" in view.retention_message.text()
        assert "3650" in view.retention_message.text()
        assert _events_table(console) == {"retention_days": 30, "alert_retention_days": 400}
        console.close()
    finally:
        stop_agent(agent)


def test_retention_on_the_built_in_rules_cannot_be_saved_and_says_so(
    qtbot: QtBot, tmp_path: Path
) -> None:
    process = _DefaultPolicyAgent(tmp_path)
    texts = Texts("en")
    try:
        pin = abhaya("set-pin", data_dir=tmp_path / "data", pin_input=f"{PIN}\n{PIN}\n")
        assert pin.returncode == 0, pin.stderr
        console = _open(qtbot, tmp_path / "data", tmp_path / "console.toml")
        sign_in(qtbot, console)
        view = console.settings_view
        console.window.tabs.setCurrentWidget(view)
        qtbot.waitUntil(lambda: view.retention_note.text() != "", timeout=10_000)
        assert view.retention_note.text() == texts("retention.not_editable")
        assert not view.save_days.isEnabled() and not view.retention_days.isEnabled()
        console.settings.save_retention(30, 365)  # even if asked, nothing is sent
        qtbot.waitUntil(
            lambda: view.retention_message.text() == texts("retention.not_editable"),
            timeout=10_000,
        )
        assert console.service.policy()["editable"] is False
        console.close()
    finally:
        stop_agent(process)
