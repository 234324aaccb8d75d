"""Edits on the Rules page not saved yet are never dropped without asking the parent.

The real console against the module's real agent.  Each action that would drop them (another
child chosen, "Refresh", the language changed, the window closed) asks first, in the real
question box, whose buttons the tests press: Cancel keeps the edits and what is shown, Discard
drops them, Save saves them through the page's own save (seen in the agent's policy and at its
proxy) and then goes on.  Nothing is asked when nothing changed, or when an edit was undone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from abhaya.ui.console.app import Console
from abhaya.ui.console.controllers.rules import Place
from abhaya.ui.console.controllers.unsaved import Answer
from abhaya.ui.console.host import ConsoleHost
from abhaya.ui.console.policyedit import read_rules
from abhaya.ui.console.service import ConsoleService
from abhaya.ui.console.settings import ConsoleSettings, load_settings, save_settings
from abhaya.ui.console.texts import Texts
from tests.agent.test_cli import AgentProcess
from tests.ui.console.conftest import data_dir, sign_in
from tests.ui.console.test_rules_page import _open_rules

BUTTONS = {
    Answer.SAVE: QMessageBox.StandardButton.Save,
    Answer.DISCARD: QMessageBox.StandardButton.Discard,
    Answer.CANCEL: QMessageBox.StandardButton.Cancel,
}


def _blocked_for(console: Console, child: str) -> tuple[str, ...]:
    """The child's block list in the policy the agent runs now."""
    return read_rules(console.service.policy()["text"]).profile(child).block


def _edit(qtbot: QtBot, console: Console, site: str) -> None:
    """Type a site onto the shown child's block list, as the parent would."""
    view = console.rules_view
    view.block.setFocus()
    view.block.moveCursor(view.block.textCursor().MoveOperation.End)
    qtbot.keyClick(view.block, Qt.Key.Key_Return)
    qtbot.keyClicks(view.block, site)
    assert console.unsaved.has_unsaved()


def _answer(qtbot: QtBot, console: Console, answer: Answer, child: str = "child") -> None:
    qtbot.waitUntil(lambda: console.unsaved_box is not None and console.unsaved_box.isVisible())
    box = console.unsaved_box
    assert box is not None
    assert box.text() == console.texts("unsaved.question", child=child)
    button = box.button(BUTTONS[answer])
    assert button.text() == console.texts(f"unsaved.{answer}")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not box.isVisible())


def _choose_child(console: Console, name: str) -> None:
    combo = console.rules_view.profile
    combo.setCurrentIndex(combo.findData(name))
    combo.activated.emit(combo.currentIndex())


def _shown_child(console: Console) -> str:
    assert console.rules.state is not None
    return console.rules.state.profile.name


# Another child chosen on the Rules page.


def test_another_child_chosen_and_cancel_keeps_the_edits_and_the_child(
    qtbot: QtBot, console: Console
) -> None:
    _open_rules(qtbot, console)
    _edit(qtbot, console, "cancel-kept.example")
    _choose_child(console, "teen")
    _answer(qtbot, console, Answer.CANCEL)
    assert _shown_child(console) == "child"
    assert console.rules_view.profile.currentData() == "child"
    assert console.rules_view.block.toPlainText().endswith("\ncancel-kept.example")
    assert console.unsaved.has_unsaved()
    assert "cancel-kept.example" not in _blocked_for(console, "child")


def test_another_child_chosen_and_discard_drops_the_edits(qtbot: QtBot, console: Console) -> None:
    _open_rules(qtbot, console)
    _edit(qtbot, console, "discarded.example")
    _choose_child(console, "teen")
    _answer(qtbot, console, Answer.DISCARD)
    assert _shown_child(console) == "teen"
    _choose_child(console, "child")  # nothing unsaved on the teen's page: no question
    assert _shown_child(console) == "child"
    assert "discarded.example" not in console.rules_view.block.toPlainText()
    assert "discarded.example" not in _blocked_for(console, "child")


def test_another_child_chosen_and_save_saves_then_shows_that_child(
    qtbot: QtBot, console: Console, agent: AgentProcess
) -> None:
    assert agent.status_of("https://saved-first.example/") != 403
    _open_rules(qtbot, console)
    _edit(qtbot, console, "saved-first.example")
    _choose_child(console, "teen")
    _answer(qtbot, console, Answer.SAVE)
    qtbot.waitUntil(lambda: _shown_child(console) == "teen", timeout=15_000)
    assert console.rules_view.profile.currentData() == "teen"
    assert "saved-first.example" in _blocked_for(console, "child")
    assert agent.status_of("https://saved-first.example/") == 403


def test_a_save_refused_keeps_the_parent_on_the_child_with_the_reason(
    qtbot: QtBot, console: Console
) -> None:
    _open_rules(qtbot, console)
    view = console.rules_view
    view.words.setPlainText("!!!")
    _choose_child(console, "teen")
    _answer(qtbot, console, Answer.SAVE)
    qtbot.waitUntil(lambda: view.errors[Place.KEYWORDS].text() != "", timeout=15_000)
    qtbot.wait(300)  # had the save gone on, the teen would be shown by now
    assert _shown_child(console) == "child" and view.profile.currentData() == "child"
    assert view.words.toPlainText() == "!!!" and console.unsaved.has_unsaved()


def test_nothing_is_asked_when_nothing_changed_or_an_edit_was_undone(
    qtbot: QtBot, console: Console
) -> None:
    _open_rules(qtbot, console)
    _choose_child(console, "teen")
    assert _shown_child(console) == "teen"
    view = console.rules_view
    view.allow.setFocus()
    qtbot.keyClicks(view.allow, "typed.example")
    assert console.unsaved.has_unsaved()
    for _ in "typed.example":
        qtbot.keyClick(view.allow, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    view.block.setPlainText(view.block.toPlainText() + "\n\n")  # blank lines are no change
    assert not console.unsaved.has_unsaved()
    _choose_child(console, "night")
    assert _shown_child(console) == "night"
    view.grid.set_grid(view.grid.grid())  # the grid painted back as it was
    with qtbot.waitSignal(console.rules.loaded, timeout=10_000):
        qtbot.mouseClick(view.reload, Qt.MouseButton.LeftButton)
    assert console.unsaved_box is None


# "Refresh" on the Rules page.


def test_refresh_with_edits_asks_first_and_cancel_keeps_them(
    qtbot: QtBot, console: Console
) -> None:
    _open_rules(qtbot, console)
    _edit(qtbot, console, "refresh-kept.example")
    reloads: list[object] = []
    console.rules.loaded.connect(reloads.append)
    qtbot.mouseClick(console.rules_view.reload, Qt.MouseButton.LeftButton)
    _answer(qtbot, console, Answer.CANCEL)
    qtbot.wait(300)
    assert reloads == []
    assert console.rules_view.block.toPlainText().endswith("\nrefresh-kept.example")


def test_refresh_with_edits_and_discard_reads_the_rules_again(
    qtbot: QtBot, console: Console
) -> None:
    _open_rules(qtbot, console)
    _edit(qtbot, console, "refresh-dropped.example")
    qtbot.mouseClick(console.rules_view.reload, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(console.rules.loaded, timeout=10_000):
        _answer(qtbot, console, Answer.DISCARD)
    assert "refresh-dropped.example" not in console.rules_view.block.toPlainText()
    assert not console.unsaved.has_unsaved()


# The window closed.


def test_closing_the_window_with_edits_and_cancel_keeps_it_open(
    qtbot: QtBot, console: Console
) -> None:
    _open_rules(qtbot, console)
    _edit(qtbot, console, "still-open.example")
    assert not console.window.close()
    _answer(qtbot, console, Answer.CANCEL)
    assert console.window.isVisible()
    assert console.rules_view.block.toPlainText().endswith("\nstill-open.example")


def test_closing_the_window_with_edits_and_discard_closes_it_unsaved(
    qtbot: QtBot, console: Console
) -> None:
    _open_rules(qtbot, console)
    _edit(qtbot, console, "closed-unsaved.example")
    assert not console.window.close()
    _answer(qtbot, console, Answer.DISCARD)
    assert not console.window.isVisible()
    assert "closed-unsaved.example" not in _blocked_for(console, "child")


def test_closing_the_window_with_edits_and_save_saves_then_closes(
    qtbot: QtBot, console: Console, agent: AgentProcess
) -> None:
    _open_rules(qtbot, console)
    _edit(qtbot, console, "saved-at-close.example")
    assert not console.window.close()
    _answer(qtbot, console, Answer.SAVE)
    qtbot.waitUntil(lambda: not console.window.isVisible(), timeout=15_000)
    assert "saved-at-close.example" in _blocked_for(console, "child")
    assert agent.status_of("https://saved-at-close.example/") == 403


def test_closing_the_window_with_nothing_changed_asks_nothing(
    qtbot: QtBot, console: Console
) -> None:
    _open_rules(qtbot, console)
    _edit(qtbot, console, "undone.example")
    console.rules_view.block.undo()
    assert not console.unsaved.has_unsaved()
    assert console.window.close()
    assert not console.window.isVisible() and console.unsaved_box is None


# The console's language changed on the Settings page (the console is rebuilt in it).


@pytest.fixture
def host(qtbot: QtBot, agent: AgentProcess, tmp_path: Path) -> Iterator[ConsoleHost]:
    """A signed-in console under its host, as `abhaya console` runs it, in English (the
    first-start walk-through skipped, as conftest.open_console does)."""
    settings = tmp_path / "console.toml"
    save_settings(settings, ConsoleSettings("en", setup_skipped=True))
    opened = ConsoleHost(ConsoleService(data_dir(agent)), "en", settings_path=settings)
    opened.start()
    sign_in(qtbot, opened.console)
    yield opened
    opened.close()


def _choose_hindi(host: ConsoleHost) -> Callable[[], bool]:
    """Pick Hindi on the Settings page; the returned check says whether the console switched."""
    old = host.console
    old.window.tabs.setCurrentWidget(old.settings_view)
    combo = old.settings_view.language
    combo.setCurrentIndex(combo.findData("hi"))
    combo.activated.emit(combo.currentIndex())
    return lambda: host.console is not old and host.console.texts == Texts("hi")


def test_the_language_changed_with_edits_and_cancel_keeps_both(
    qtbot: QtBot, host: ConsoleHost, tmp_path: Path
) -> None:
    console = host.console
    _open_rules(qtbot, console)
    _edit(qtbot, console, "language-kept.example")
    switched = _choose_hindi(host)
    _answer(qtbot, console, Answer.CANCEL)
    qtbot.wait(100)
    assert not switched() and host.console is console
    assert console.settings_view.language.currentData() == "en"
    assert load_settings(tmp_path / "console.toml").language == "en"
    assert console.rules_view.block.toPlainText().endswith("\nlanguage-kept.example")


def test_the_language_changed_with_edits_and_discard_switches_unsaved(
    qtbot: QtBot, host: ConsoleHost, tmp_path: Path
) -> None:
    console = host.console
    _open_rules(qtbot, console)
    _edit(qtbot, console, "language-dropped.example")
    switched = _choose_hindi(host)
    _answer(qtbot, console, Answer.DISCARD)
    assert switched()
    assert load_settings(tmp_path / "console.toml").language == "hi"
    assert "language-dropped.example" not in _blocked_for(console, "child")


def test_the_language_changed_with_edits_and_save_saves_then_switches(
    qtbot: QtBot, host: ConsoleHost, agent: AgentProcess, tmp_path: Path
) -> None:
    console = host.console
    _open_rules(qtbot, console)
    _edit(qtbot, console, "saved-before-hindi.example")
    switched = _choose_hindi(host)
    _answer(qtbot, console, Answer.SAVE)
    qtbot.waitUntil(switched, timeout=15_000)
    assert load_settings(tmp_path / "console.toml").language == "hi"
    assert "saved-before-hindi.example" in _blocked_for(console, "child")
    assert agent.status_of("https://saved-before-hindi.example/") == 403


def test_the_language_changed_after_an_undone_edit_switches_without_asking(
    qtbot: QtBot, host: ConsoleHost
) -> None:
    console = host.console
    _open_rules(qtbot, console)
    _edit(qtbot, console, "undone.example")
    console.rules_view.block.undo()
    switched = _choose_hindi(host)
    assert switched() and console.unsaved_box is None


def test_the_language_changed_and_a_refused_save_shows_why_on_the_rules_page(
    qtbot: QtBot, host: ConsoleHost, tmp_path: Path
) -> None:
    console = host.console
    _open_rules(qtbot, console)
    console.rules_view.words.setPlainText("!!!")
    switched = _choose_hindi(host)
    _answer(qtbot, console, Answer.SAVE)
    words_error = console.rules_view.errors[Place.KEYWORDS]
    qtbot.waitUntil(lambda: words_error.text() != "", timeout=15_000)
    assert console.window.tabs.currentWidget() is console.rules_view
    qtbot.wait(300)  # had the save gone on, the console would have switched by now
    assert not switched() and console.settings_view.language.currentData() == "en"
    assert load_settings(tmp_path / "console.toml").language == "en"
