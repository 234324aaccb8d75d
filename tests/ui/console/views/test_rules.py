"""The Rules page's word lists, shown from a policy text without an agent."""

from __future__ import annotations

import textwrap

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from abhaya.ui.console.controllers.rules import RulesState
from abhaya.ui.console.policyedit import read_rules
from abhaya.ui.console.texts import Texts
from abhaya.ui.console.views.rules import RulesView
from tests.conftest import POLICY

OFF = textwrap.dedent(POLICY).replace(
    "[profiles.teen]\n",
    '[profiles.teen]\nkeywords = { lists_off = ["violence", "gambling"] }\n',
)


def _view(qtbot: QtBot, text: str, profile: str) -> RulesView:
    view = RulesView(Texts("en"))
    qtbot.addWidget(view)
    view.show_state(RulesState.of(read_rules(text), profile, True, "policy.toml"))
    return view


def test_lists_turned_off_are_shown_unticked_and_given_back_in_their_order(
    qtbot: QtBot,
) -> None:
    view = _view(qtbot, OFF, "teen")
    boxes = view.keyword_lists.boxes
    assert not boxes["gambling"].isChecked() and boxes["self_harm"].isChecked()
    assert "violence" not in boxes  # no [[keywords]] list of its own: not shown, but kept
    assert view.form().lists_off == ("violence", "gambling")
    boxes["self_harm"].setFocus()
    qtbot.keyClick(boxes["self_harm"], Qt.Key.Key_Space)
    qtbot.keyClick(boxes["gambling"], Qt.Key.Key_Space)
    assert view.form().lists_off == ("violence", "self_harm")


def test_the_csam_list_is_shown_always_on(qtbot: QtBot) -> None:
    view = _view(qtbot, textwrap.dedent(POLICY), "child")
    csam = view.keyword_lists.boxes["csam"]
    assert csam.isChecked() and not csam.isEnabled()
    assert view.form().lists_off == ()


def test_a_schedule_the_grid_cannot_show_is_kept_and_said(qtbot: QtBot) -> None:
    text = textwrap.dedent(POLICY).replace('start = "16:00"', 'start = "4pm"')
    view = _view(qtbot, text, "night")
    assert not view.grid.isEnabled()
    assert "'4pm' is not HH:MM" in view.grid_note.text()
    assert view.form().schedule is None
