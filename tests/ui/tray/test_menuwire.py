"""The menu the popup is sent, and the choice it sends back, checked against what was offered."""

from __future__ import annotations

import pytest

from abhaya.ui.tray.controller import Action, MenuItem
from abhaya.ui.tray.menuwire import PopupItem, chosen_action, menu_json, read_menu

MENU = (
    MenuItem("Open the console", Action.OPEN_CONSOLE, default=True),
    MenuItem("2 requests waiting", None),
    MenuItem("15 मिनट के लिए रोकें", Action.PAUSE_15),
    MenuItem("Close the tray", Action.QUIT),
)


def test_the_menu_reaches_the_popup_as_it_is_shown() -> None:
    assert read_menu(menu_json(MENU)) == (
        PopupItem("Open the console", "open_console"),
        PopupItem("2 requests waiting", None),
        PopupItem("15 मिनट के लिए रोकें", "pause_15"),
        PopupItem("Close the tray", "quit"),
    )


@pytest.mark.parametrize(
    ("answer", "action"),
    [
        ("pause_15\n", Action.PAUSE_15),
        ("quit", Action.QUIT),
        ("pause_60\n", None),  # a real action, but not one this menu offered
        ("resume", None),
        ("", None),
        ("2 requests waiting", None),
    ],
)
def test_only_an_offered_action_is_taken(answer: str, action: Action | None) -> None:
    assert chosen_action(answer, MENU) == action


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{}", "not a JSON list"),
        ('[{"action": "quit"}]', "without a label"),
        ('[{"label": "x", "action": 3}]', "not a name"),
        ("[1]", "without a label"),
    ],
)
def test_a_menu_that_is_not_one_is_refused(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        read_menu(text)


def test_text_that_is_not_json_is_refused() -> None:
    with pytest.raises(ValueError):
        read_menu("open_console")
