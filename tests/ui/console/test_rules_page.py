"""The Rules page against a real agent: a change saved there is what the proxy does next.

The agent runs with a policy file (tests/conftest.py's), so it can be edited; the page's save
goes through `PUT /v1/policy`, the agent validates it whole, and the proxy's next request
shows the result.  A refused change leaves the file as it was and says why beside the field.
"""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import httpx
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from abhaya.ui.console.app import Console
from abhaya.ui.console.controllers.rules import Place
from abhaya.ui.console.policyedit import Window, read_rules
from abhaya.ui.console.texts import Texts
from tests.agent.api.conftest import ApiAgent, Clock, set_first_pin
from tests.agent.conftest import Upstream, local_upstream, start_agent
from tests.agent.test_cli import ABHAYA, AgentProcess
from tests.client.test_commands import PIN, abhaya
from tests.conftest import MONDAY_MORNING
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


def test_a_refused_change_says_why_next_to_the_words_and_changes_nothing(
    qtbot: QtBot, console: Console, agent: AgentProcess
) -> None:
    before = _policy_file(agent)
    _open_rules(qtbot, console)
    view = console.rules_view
    view.words.setPlainText("!!!")
    qtbot.mouseClick(view.save, Qt.MouseButton.LeftButton)
    words_error = view.errors[Place.KEYWORDS]
    qtbot.waitUntil(lambda: words_error.text() != "", timeout=15_000)
    assert words_error.text() == "word '!!!' has no letters or digits to search for"
    assert not words_error.isHidden()
    top = view.errors[Place.TOP].text()
    assert top == Texts("en")("rules.refused_fields")
    assert view.errors[Place.BLOCK].isHidden() and view.errors[Place.SCHEDULE].isHidden()
    assert _policy_file(agent) == before
    qtbot.wait(100)  # let the scroll area lay out and scroll to the words
    screenshot(console.window, "rules-refused-en", 1.0)


def test_a_grid_with_no_time_allowed_is_not_sent_and_says_why(
    qtbot: QtBot, console: Console, agent: AgentProcess
) -> None:
    before = _policy_file(agent)
    _open_rules(qtbot, console)
    view = console.rules_view
    qtbot.mouseClick(view.allow_none, Qt.MouseButton.LeftButton)
    assert view.grid.grid().never and view.grid.hasFocus()
    qtbot.mouseClick(view.save, Qt.MouseButton.LeftButton)
    schedule_error = view.errors[Place.SCHEDULE]
    assert schedule_error.text() == Texts("en")("rulesgrid.nothing_allowed")
    assert not schedule_error.isHidden()
    qtbot.wait(500)
    assert _policy_file(agent) == before


def test_a_category_for_one_child_is_changed_and_the_proxy_obeys(
    qtbot: QtBot, console: Console, agent: AgentProcess
) -> None:
    assert agent.status_of("https://gore.example/page") == 403
    _open_rules(qtbot, console)
    view = console.rules_view
    with qtbot.waitSignal(console.rules.loaded, timeout=10_000):
        qtbot.mouseClick(view.reload, Qt.MouseButton.LeftButton)
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
    with qtbot.waitSignal(console.rules.loaded, timeout=10_000):
        qtbot.mouseClick(view.reload, Qt.MouseButton.LeftButton)
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
    lists = view.keyword_lists.boxes
    assert set(lists) == {"csam", "gambling", "self_harm"}
    assert not lists["csam"].isEnabled() and lists["gambling"].isChecked()
    assert lists["gambling"].text() == texts(
        "rulesgrid.list_of", category=texts.category("gambling")
    )
    view.profile.setCurrentIndex(view.profile.findData("night"))
    view.profile.activated.emit(view.profile.currentIndex())
    qtbot.waitUntil(lambda: not view.grid.grid().always, timeout=5_000)
    grid = view.grid.grid()
    assert grid[(0, 32)] and grid[(4, 39)] and not grid[(0, 40)] and not grid[(5, 32)]
    assert view.grid_zone.text() == texts("rulesgrid.zone", zone="Asia/Kolkata")
    view.words.setPlainText("kazoo\nblue pelican")  # shown, never saved
    view.grid.setFocus()
    qtbot.keyClick(view.grid, Qt.Key.Key_Down)
    assert view.grid_cell.text() == texts(
        "rulesgrid.cell",
        day=texts("rulesgrid.day_tue"),
        start="00:00",
        end="00:30",
        state=texts("rulesgrid.not_allowed"),
    )
    for part, box in (("keywords", view.keywords_box), ("grid", view.schedule_box)):
        view.scroll_to(box)
        qtbot.wait(100)
        for scale in SCALES:
            path = screenshot(console.window, f"rules-{part}-{language}", scale)
            assert path.stat().st_size > 20_000
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
        view.block.setPlainText("typed.example")  # cannot be saved: no question offers to
        assert not console.unsaved.has_unsaved()
        with qtbot.waitSignal(console.rules.loaded, timeout=10_000):
            qtbot.mouseClick(view.reload, Qt.MouseButton.LeftButton)
        assert console.unsaved_box is None and view.block.toPlainText() == ""
        console.close()
    finally:
        stop_agent(process)


def _search(agent: AgentProcess, url: str) -> httpx.Response:
    """What the child's browser gets for `url` through the agent's proxy."""
    context = ssl.create_default_context(cafile=str(agent.folder / "data/ca/abhaya-ca.pem"))
    with httpx.Client(proxy=f"http://127.0.0.1:{agent.port}", verify=context, timeout=20) as c:
        return c.get(url)


def test_an_own_word_added_on_the_page_stops_that_search_at_the_proxy(
    qtbot: QtBot, console: Console, agent: AgentProcess
) -> None:
    own = "https://duckduckgo.com/?q=where+to+buy+a+KAZ00"
    listed = "https://duckduckgo.com/?q=online+casino"
    assert _search(agent, own).status_code != 403  # no internet here: the site cannot be reached
    assert _search(agent, listed).status_code == 403  # the gambling word list
    _open_rules(qtbot, console)
    view = console.rules_view
    view.words.setPlainText("kazoo\n  blue pelican \n")
    gambling = view.keyword_lists.boxes["gambling"]
    gambling.setFocus()
    qtbot.keyClick(gambling, Qt.Key.Key_Space)  # the keyboard, as a parent without a mouse
    assert not view.keyword_lists.boxes["gambling"].isChecked()
    qtbot.mouseClick(view.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.message.text().startswith("Saved."), timeout=15_000)
    assert (
        'keywords = {words = ["kazoo", "blue pelican"], lists_off = ["gambling"]}'
        in _policy_file(agent).split("[profiles.teen]")[0]
    )
    page = _search(agent, own)
    assert page.status_code == 403
    assert "A parent has chosen not to allow this page" in page.text
    assert "where to buy a KAZ00" in page.text  # "Your search", as the child typed it
    assert _search(agent, listed).status_code != 403
    qtbot.waitUntil(
        lambda: console.rules.state is not None and console.rules.state.profile.words != (),
        timeout=10_000,
    )
    assert view.words.toPlainText() == "kazoo\nblue pelican"
    assert not view.keyword_lists.boxes["gambling"].isChecked()


def test_an_hour_painted_on_the_grid_is_blocked_by_the_proxy_at_that_hour(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """The agent runs in this process with a clock the test moves (`Services.clock`)."""
    clock = Clock(MONDAY_MORNING)  # Monday 10:00 in the policy's zone
    with local_upstream(tmp_path) as upstream:
        _paint_and_check(qtbot, tmp_path, upstream, clock)


def _paint_and_check(qtbot: QtBot, tmp_path: Path, upstream: Upstream, clock: Clock) -> None:
    agent = ApiAgent(start_agent(tmp_path, upstream, clock=clock), clock, tmp_path / "data")
    try:
        set_first_pin(agent)
        assert agent.status_of("https://example.org/") == 200
        console = open_console(qtbot, agent.data_dir)
        sign_in(qtbot, console)
        _open_rules(qtbot, console)
        view = console.rules_view
        grid = view.grid
        assert grid.grid().always  # the child has no schedule: any time
        view.scroll_area.ensureWidgetVisible(grid)
        # Monday 10:00-11:00 painted "not allowed" with a drag across its two half hours
        qtbot.mousePress(grid, Qt.MouseButton.LeftButton, pos=grid.cell_center((0, 20)))
        qtbot.mouseMove(grid, grid.cell_center((0, 21)))
        qtbot.mouseRelease(grid, Qt.MouseButton.LeftButton, pos=grid.cell_center((0, 21)))
        # and Sunday 23:30 with the keyboard: down six days, to the end of the day, Space
        for _ in range(6):
            qtbot.keyClick(grid, Qt.Key.Key_Down)
        qtbot.keyClick(grid, Qt.Key.Key_End)
        qtbot.keyClick(grid, Qt.Key.Key_Space)
        assert grid.cursor_cell() == (6, 47)
        assert view.grid_cell.text() == "Sunday 23:30 to 24:00: Not allowed"
        painted = grid.grid()
        assert not painted[(0, 20)] and not painted[(0, 21)] and not painted[(6, 47)]
        assert sum(not cell for row in painted.allowed for cell in row) == 3
        qtbot.mouseClick(view.save, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: view.message.text().startswith("Saved."), timeout=15_000)
        saved = (tmp_path / "policy" / "policy.toml").read_text(encoding="utf-8")
        assert read_rules(saved).profile("child").schedule == (
            Window(("mon",), "00:00", "10:00"),
            Window(("mon",), "11:00", "24:00"),
            Window(("tue", "wed", "thu", "fri", "sat"), "00:00", "24:00"),
            Window(("sun",), "00:00", "23:30"),
        )
        assert agent.status_of("https://example.org/") == 403  # Monday 10:00
        clock.advance(minutes=59)
        assert agent.status_of("https://example.org/") == 403  # 10:59
        clock.advance(minutes=1)
        assert agent.status_of("https://example.org/") == 200  # 11:00
        clock.advance(days=6, hours=12, minutes=40)
        assert agent.status_of("https://example.org/") == 403  # Sunday 23:40
        clock.advance(minutes=30)
        assert agent.status_of("https://example.org/") == 200  # Monday 00:10
        console.close()
    finally:
        agent.running.stop()
