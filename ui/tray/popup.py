"""The tray's menu as a small Qt popup (`abhaya tray --menu`), for pystray's X11 backend.

It runs in its own short-lived process, as the PIN dialog does (see `launch` and `menuwire`):
the menu comes on standard input, the popup opens where the mouse is (the click on the icon),
and the chosen action's name is printed (exit 0); nothing when the parent clicks elsewhere or
presses Escape (exit 1).  Keyboard: the arrow keys and Enter, as in any menu.
"""

from __future__ import annotations

import sys

from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QApplication, QMenu

from abhaya.ui.tray.menuwire import PopupItem, read_menu
from abhaya.ui.tray.words import Language, say


def build_menu(items: tuple[PopupItem, ...], language: Language) -> QMenu:
    """Layout only: one entry an item, the informing lines greyed out."""
    menu = QMenu()
    menu.setWindowTitle(f"{say(language, 'name')}: {say(language, 'menu')}")
    for item in items:
        entry = menu.addAction(item.label)
        entry.setData(item.action)
        entry.setEnabled(item.action is not None)
    return menu


def run(language: Language) -> int:
    """Read the menu, show it, print the choice; 1 when nothing was chosen, 2 for a menu that
    could not be read."""
    try:
        items = read_menu(sys.stdin.read())
    except ValueError as error:
        print(f"abhaya: the tray's menu could not be read: {error}", file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication([sys.argv[0]])
    menu = build_menu(items, language)
    chosen = menu.exec(QCursor.pos())
    del app
    if chosen is None or not chosen.data():
        return 1
    print(chosen.data(), flush=True)
    return 0
