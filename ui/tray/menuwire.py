"""The tray's menu as the popup process gets it, and the choice it sends back.

pystray's X11 backend draws no menu: a click only runs the default item.  There the tray shows
its menu itself, as a small Qt popup in a process of its own (`abhaya tray --menu`, started as
the PIN dialog is, see `launch`).  The tray writes the menu of its current view to the popup's
standard input as JSON, one object an item (`label`, and `action` or null for a line that only
informs); the popup prints the chosen action's name.  Pure: no Qt, no pystray.

What comes back is checked against what was offered: an answer naming any other action (or
none) means nothing was chosen, so a confused or replaced popup can never pick an action the
menu did not show.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from abhaya.ui.tray.controller import Action, MenuItem


@dataclass(frozen=True, slots=True)
class PopupItem:
    label: str
    action: str | None
    """The action's name; None for a line that only informs (shown, not clickable)."""


def menu_json(menu: Sequence[MenuItem]) -> str:
    return json.dumps(
        [{"label": item.label, "action": item.action} for item in menu], ensure_ascii=False
    )


def read_menu(text: str) -> tuple[PopupItem, ...]:
    """The items the popup shows; ValueError (with the reason) for anything but the list
    `menu_json` writes."""
    items = json.loads(text)
    if not isinstance(items, list):
        raise ValueError("the menu is not a JSON list")
    read: list[PopupItem] = []
    for item in items:
        if not (isinstance(item, dict) and isinstance(item.get("label"), str)):
            raise ValueError(f"a menu item without a label: {item!r}")
        action = item.get("action")
        if action is not None and not isinstance(action, str):
            raise ValueError(f"a menu item's action is not a name: {item!r}")
        read.append(PopupItem(item["label"], action))
    return tuple(read)


def chosen_action(answer: str, menu: Sequence[MenuItem]) -> Action | None:
    """The action the popup printed, if the menu offered it; None otherwise."""
    name = answer.strip()
    offered = {item.action for item in menu if item.action is not None}
    return next((action for action in offered if action == name), None)
