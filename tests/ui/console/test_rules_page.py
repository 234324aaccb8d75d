"""The Rules page against a real agent: a change saved there is what the proxy does next.

The agent runs with a policy file (tests/conftest.py's), so it can be edited; the page's save
goes through `PUT /v1/policy`, the agent validates it whole, and the proxy's next request
shows the result.  A refused change leaves the file as it was and says why beside the field.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from abhaya.ui.console.app import Console
from abhaya.ui.console.controllers.rules import Place
from abhaya.ui.console.texts import Texts
from tests.agent.test_cli import ABHAYA, AgentProcess
from tests.client.test_commands import PIN, abhaya
from tests.ui.console.conftest import data_dir, open_console, screenshot, sign_in, stop_agent

SCALES = (1.0, 1.5)


def _policy_file(agent: AgentProcess) -> str:
    return (agent.folder / "policy" / "policy.toml").read_text(encoding="utf-8")


def _open_rules(qtbot: QtBot, console: Console) -> None:
    qtbot.keyClick(console.window, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
    assert console.window.tabs.currentWidget() is console.rules_view
    qtbot.waitUntil(lambda: console.rules.state is not None, timeout=10_000)


def test_a_site_blocked_on_the_page_is_blocked_by_the_proxy(
    qtbot: QtBot, console: Console, agent: AgentProcess
) -> None:
    assert agent.status_of("https://homework-games.example/level1") != 403
    _open_rules(qtbot, console)
    view = console.rules_view
    assert view.profile.currentText() == "child"
    assert view.block.toPlainText() == "custom.example\nwiki.example/private"
    view.block.appendPlainText("homework-games.example")
    qtbot.mouseClick(view.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.message.text().startswith("Saved."), timeout=15_000)
    assert agent.status_of("https://homework-games.example/level1") == 403
    text = _policy_file(agent)
    assert 'block = ["custom.example", "wiki.example/private", "homework-games.example"]' in text
    assert "[profiles.teen]" in text and "[[profiles.night.schedule]]" in text
    qtbot.waitUntil(
        lambda: (
            console.rules.state is not None
            and "homework-games.example" in console.rules.state.profile.block
        ),
        timeout=10_000,
    )


def test_a_refused_change_says_why_next_to_the_schedule_and_changes_nothing(
    qtbot: QtBot, console: Console, agent: AgentProcess
) -> None:
    before = _policy_file(agent)
    _open_rules(qtbot, console)
    view = console.rules_view
    qtbot.mouseClick(view.add_window, Qt.MouseButton.LeftButton)
    window = view.windows[-1]
    window.start.setText("16:00")
    window.end.setText("16:00")
    qtbot.mouseClick(view.save, Qt.MouseButton.LeftButton)
    schedule_error = view.errors[Place.SCHEDULE]
    qtbot.waitUntil(lambda: schedule_error.text() != "", timeout=15_000)
    assert schedule_error.text() == "start and end are the same time; the window would be empty"
    assert not schedule_error.isHidden()
    top = view.errors[Place.TOP].text()
    assert top == Texts("en")("rules.refused_fields")
    assert view.errors[Place.BLOCK].isHidden()
    assert _policy_file(agent) == before
    qtbot.wait(100)  # let the scroll area lay out and scroll to the schedule
    screenshot(console.window, "rules-refused-en", 1.0)


def test_a_category_for_one_child_is_changed_and_the_proxy_obeys(
    qtbot: QtBot, console: Console, agent: AgentProcess
) -> None:
    assert agent.status_of("https://gore.example/page") == 403
    _open_rules(qtbot, console)
    view = console.rules_view
    qtbot.mouseClick(view.reload, Qt.MouseButton.LeftButton)  # the unsaved window is dropped
    qtbot.waitUntil(lambda: not view.windows, timeout=10_000)
    row = next(r for r in view._category_rows if r.name == "violence")
    row.override.setCurrentIndex(row.override.findData("allow"))
    qtbot.mouseClick(view.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.message.text().startswith("Saved."), timeout=15_000)
    assert 'categories = {violence = "allow"}' in _policy_file(agent)
    assert agent.status_of("https://gore.example/page") != 403


def test_a_change_made_meanwhile_with_the_command_stays_when_the_page_saves(
    qtbot: QtBot, console: Console, agent: AgentProcess, tmp_path: Path
) -> None:
    _open_rules(qtbot, console)
    view = console.rules_view
    qtbot.mouseClick(view.reload, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.windows, timeout=10_000)
    edited = tmp_path / "edited.toml"
    edited.write_text(
        _policy_file(agent).replace(
            "[profiles.teen]", "# The teen's rules, agreed on Sunday.\n[profiles.teen]"
        ),
        encoding="utf-8",
    )
    applied = abhaya("policy", "apply", str(edited), data_dir=data_dir(agent), pin_input=f"{PIN}\n")
    assert applied.returncode == 0, applied.stderr
    view.safe_search.setChecked(False)
    qtbot.mouseClick(view.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.message.text().startswith("Saved."), timeout=15_000)
    text = _policy_file(agent)
    assert "# The teen's rules, agreed on Sunday.\n[profiles.teen]" in text
    assert "safe_search = false" in text.split("[profiles.teen]")[0]


@pytest.mark.parametrize("language", ["en", "hi"])
def test_the_rules_page_is_rendered_in_each_language_and_scale(
    qtbot: QtBot, agent: AgentProcess, language: str
) -> None:
    texts = Texts(language)
    console = open_console(qtbot, data_dir(agent), language)
    sign_in(qtbot, console)
    console.window.tabs.setCurrentWidget(console.rules_view)
    qtbot.waitUntil(lambda: console.rules.state is not None, timeout=10_000)
    view = console.rules_view
    assert view.save.isEnabled()
    assert view.safe_search.text() == texts("rules.safe_search")
    labels = {row.label.text() for row in view._category_rows}
    assert texts.category("gambling") in labels
    console.window.resize(1100, 720)
    qtbot.wait(100)  # let the page lay out the rows it was just given
    for scale in SCALES:
        path = screenshot(console.window, f"rules-{language}", scale)
        assert path.stat().st_size > 20_000
    view.profile.setCurrentIndex(view.profile.findData("night"))
    view.profile.activated.emit(view.profile.currentIndex())
    qtbot.waitUntil(lambda: len(view.windows) == 1, timeout=5_000)
    assert view.windows[0].start.text() == "16:00"
    view.scroll_area.ensureWidgetVisible(view.windows[0])
    qtbot.wait(100)
    screenshot(console.window, f"rules-schedule-{language}", 1.0)
    console.close()


class _DefaultPolicyAgent(AgentProcess):
    """`abhaya run` with no --policy: the embedded default policy, which cannot be edited."""

    def __init__(self, folder: Path) -> None:  # the parent's start, without --policy
        self.folder = folder
        self.out = folder / "stdout.txt"
        self.err = folder / "stderr.txt"
        command = [*ABHAYA, "run", "--listen", "127.0.0.1:0", "--data-dir", str(folder / "data")]
        with self.out.open("w") as stdout, self.err.open("w") as stderr:
            self.process = subprocess.Popen(command, stdout=stdout, stderr=stderr)
        self.port = int(self.wait_for(self.out, r"filtering on http://127\.0\.0\.1:(\d+)").group(1))


def test_an_agent_on_the_built_in_rules_says_how_to_change_them(
    qtbot: QtBot, tmp_path: Path
) -> None:
    process = _DefaultPolicyAgent(tmp_path)
    try:
        pin = abhaya("set-pin", data_dir=tmp_path / "data", pin_input=f"{PIN}\n{PIN}\n")
        assert pin.returncode == 0, pin.stderr
        console = open_console(qtbot, tmp_path / "data")
        sign_in(qtbot, console)
        _open_rules(qtbot, console)
        view, texts = console.rules_view, Texts("en")
        assert view.source.text() == texts("rules.not_editable")
        assert "--policy FILE" in view.source.text()
        assert not view.save.isEnabled()
        assert view.profile.currentText() == "child"
        console.rules.save(view.form())  # even if asked, nothing is sent
        assert view.errors[Place.TOP].text() == texts("rules.not_editable")
        console.close()
    finally:
        stop_agent(process)
