"""The Activity page against a real agent: filters by why and by child, and "allow / block
this site" from an event's detail, saved into the policy and obeyed by the proxy next.

The agent runs with tests/conftest.py's policy (children `child`, `teen`, `night`); a child's
requests go through the real proxy, and the site's answer is read the way a browser would.
"""

from __future__ import annotations

import html
import re
import ssl
from pathlib import Path

import httpx
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from abhaya.client.api import ApiClient
from abhaya.filters.policy.load import parse_policy
from abhaya.ui.console.app import Console
from abhaya.ui.console.controllers.activity import FilterInput
from abhaya.ui.console.controllers.sites import EVERY_CHILD
from abhaya.ui.console.texts import Texts
from tests.agent.test_cli import AgentProcess
from tests.client.test_commands import PIN, _ask_through_proxy, abhaya
from tests.ui.console.conftest import data_dir

EN = Texts("en")


def _policy(agent: AgentProcess) -> str:
    return (agent.folder / "policy" / "policy.toml").read_text(encoding="utf-8")


def _show(qtbot: QtBot, console: Console, chosen: FilterInput, rows: int) -> None:
    """Apply `chosen` on the page (again, until the events written meanwhile are there)."""
    console.window.tabs.setCurrentWidget(console.activity_view)
    model = console.activity.model

    def shown() -> bool:
        if not model.loading:
            console.activity.apply(chosen)
        qtbot.wait(200)
        return not model.loading and model.rowCount() == rows

    qtbot.waitUntil(shown, timeout=20_000)


def _choose_first_row(qtbot: QtBot, console: Console) -> None:
    view = console.activity_view
    view.table.setFocus()
    view.table.selectRow(0)
    qtbot.waitUntil(lambda: not view.site_box.isHidden(), timeout=10_000)


def _press_and_confirm(qtbot: QtBot, console: Console, listed: str, target: str) -> str:
    """Choose whom for, press the button, answer the question; returns the question."""
    view = console.activity_view
    view.site_for.setCurrentIndex(view.site_for.findData(target))
    button = view.allow_site if listed == "allow" else view.block_site
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.confirm_box is not None and view.confirm_box.isVisible())
    box = view.confirm_box
    assert box is not None
    question = box.text()
    confirm = next(
        b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole
    )
    qtbot.mouseClick(confirm, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.site_message.text().startswith("Done:"), timeout=15_000)
    return question


def _continue_past_warning(agent: AgentProcess, url: str) -> int:
    """The child's side: the warning page, then its "continue anyway" link."""
    context = ssl.create_default_context(cafile=str(data_dir(agent) / "ca" / "abhaya-ca.pem"))
    with httpx.Client(proxy=f"http://127.0.0.1:{agent.port}", verify=context, timeout=20) as c:
        page = c.get(url)
        assert page.status_code == 403
        link = re.search(r'id="continue" href="([^"]+)"', page.text)
        assert link is not None, "no continue link on the warning page"
        origin = url.split("/", 3)
        return c.get(f"{origin[0]}//{origin[2]}{html.unescape(link.group(1))}").status_code


def test_events_are_filtered_by_why_and_by_child(
    qtbot: QtBot, console: Console, agent: AgentProcess
) -> None:
    assert agent.status_of("https://custom.example/filters") == 403  # the child's own block
    assert agent.status_of("https://adult.example/filters") == 403  # a block list
    view = console.activity_view
    qtbot.waitUntil(lambda: view.profile.count() == 4, timeout=10_000)
    assert [view.profile.itemData(n) for n in range(4)] == ["", "child", "teen", "night"]
    assert view.reason.itemText(view.reason.findData("custom_rule")) == EN.reason("custom_rule")
    _show(qtbot, console, FilterInput(text="/filters"), 2)
    _show(qtbot, console, FilterInput(text="/filters", reason="custom_rule"), 1)
    assert console.activity.model.index(0, 2).data() == "custom.example"
    _show(qtbot, console, FilterInput(text="/filters", profile="child", reason="list"), 1)
    assert console.activity.model.index(0, 2).data() == "adult.example"
    _show(qtbot, console, FilterInput(text="/filters", profile="teen"), 0)
    # The view's own fields make the same query.
    view.text.setText("/filters")
    view.reason.setCurrentIndex(view.reason.findData("custom_rule"))
    view.profile.setCurrentIndex(view.profile.findData("child"))
    qtbot.mouseClick(view.apply, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not console.activity.model.loading, timeout=10_000)
    assert console.activity.model.rowCount() == 1


def test_a_blocked_sites_event_allows_it_and_the_proxy_lets_it_through(
    qtbot: QtBot, console: Console, agent: AgentProcess
) -> None:
    assert agent.status_of("https://www.casino.example/allow-me") == 403
    _show(qtbot, console, FilterInput(text="allow-me"), 1)
    _choose_first_row(qtbot, console)
    view = console.activity_view
    assert view.site_heading.text() == "From now on, for casino.example:"
    assert view.allow_site.isEnabled() and view.block_site.isEnabled()
    assert view.site_for.currentData() == "child"  # the event's own child first
    question = _press_and_confirm(qtbot, console, "allow", "child")
    assert question == "Always allow casino.example for child?"
    assert view.site_message.text() == "Done: casino.example is now always allowed for child."
    assert agent.status_of("https://www.casino.example/allow-me") != 403
    policy = parse_policy(_policy(agent), "saved")
    assert "casino.example" in policy.profiles["child"].allow
    assert "casino.example" not in policy.profiles["teen"].allow


def test_an_allowed_sites_event_blocks_it_for_every_child_and_the_proxy_warns(
    qtbot: QtBot, console: Console, agent: AgentProcess
) -> None:
    assert _continue_past_warning(agent, "https://games.example/block-me") != 403
    _show(qtbot, console, FilterInput(text="block-me", reason="continue"), 1)
    model = console.activity.model
    assert model.index(0, 4).data() == EN.action("allow")  # let through: continued past
    _choose_first_row(qtbot, console)
    question = _press_and_confirm(qtbot, console, "block", EVERY_CHILD)
    assert question == "Always block games.example for every child?"
    context = ssl.create_default_context(cafile=str(data_dir(agent) / "ca" / "abhaya-ca.pem"))
    with httpx.Client(proxy=f"http://127.0.0.1:{agent.port}", verify=context, timeout=20) as c:
        page = c.get("https://games.example/block-me")
    assert page.status_code == 403
    assert 'id="continue"' not in page.text  # the warning page, with no way on now
    policy = parse_policy(_policy(agent), "saved")
    for child in ("child", "teen", "night"):
        assert "games.example" in policy.profiles[child].block, child


def test_blocking_an_approved_site_ends_the_approval_and_the_proxy_warns(
    qtbot: QtBot, console: Console, agent: AgentProcess
) -> None:
    """An approval beats the block list: Block must end it, or the site would still open."""
    assert _ask_through_proxy(agent, "odds.bet.example", "a school project on odds") == 200
    client = ApiClient.for_data_dir(data_dir(agent))
    client.login(PIN)
    (asked,) = [
        r for r in client.requests("pending")["requests"] if r["domain"] == "odds.bet.example"
    ]
    client.approve(asked["id"], minutes=None, scope="site")
    assert agent.status_of("https://odds.bet.example/approved-then-blocked") != 403
    _show(qtbot, console, FilterInput(text="approved-then-blocked"), 1)
    _choose_first_row(qtbot, console)
    _press_and_confirm(qtbot, console, "block", "child")
    assert console.activity_view.site_message.text().splitlines() == [
        "Done: bet.example is now always blocked for child.",
        "The earlier approval for bet.example was ended.",
    ]
    context = ssl.create_default_context(cafile=str(data_dir(agent) / "ca" / "abhaya-ca.pem"))
    with httpx.Client(proxy=f"http://127.0.0.1:{agent.port}", verify=context, timeout=20) as c:
        page = c.get("https://odds.bet.example/approved-then-blocked")
    assert page.status_code == 403
    assert 'id="page-heading"' in page.text  # the warning page, not a broken connection
    (ended,) = [r for r in client.requests("approved")["requests"] if r["id"] == asked["id"]]
    assert ended["expires_at"] is not None


def test_cancelling_the_question_changes_nothing(
    qtbot: QtBot, console: Console, agent: AgentProcess
) -> None:
    assert agent.status_of("https://bet.example/cancel-me") == 403
    before = _policy(agent)
    _show(qtbot, console, FilterInput(text="cancel-me"), 1)
    _choose_first_row(qtbot, console)
    view = console.activity_view
    qtbot.mouseClick(view.allow_site, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.confirm_box is not None and view.confirm_box.isVisible())
    assert view.confirm_box is not None
    qtbot.keyClick(view.confirm_box, Qt.Key.Key_Escape)
    qtbot.wait(300)
    assert _policy(agent) == before
    assert view.site_message.text() == ""
    assert agent.status_of("https://bet.example/cancel-me") == 403


def test_a_child_added_meanwhile_is_offered_when_the_page_is_opened_again(
    qtbot: QtBot, console: Console, agent: AgentProcess, tmp_path: Path
) -> None:
    view = console.activity_view
    console.window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.profile.findData("child") > 0, timeout=10_000)
    assert view.profile.findData("guest") == -1
    edited = tmp_path / "edited.toml"
    edited.write_text(_policy(agent) + "\n[profiles.guest]\n", encoding="utf-8")
    applied = abhaya("policy", "apply", str(edited), data_dir=data_dir(agent), pin_input=f"{PIN}\n")
    assert applied.returncode == 0, applied.stderr
    console.window.tabs.setCurrentWidget(console.dashboard_view)
    console.window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.profile.findData("guest") > 0, timeout=10_000)
