"""Holds the running console and swaps it for one in another language when the parent asks.

Every page is built with its words, so changing the language live means building the console
again: a new `Console` with the same service (so the same session: no new sign-in) takes over
the old one's page and place on screen, and the old one is retired, hidden, and let go once
the calls it had made have come back (they finish into its hidden widgets, never into the new
ones).  Rebuilding is simpler and surer than retranslating each widget by hand, where any one
label forgotten stays in the old language; it takes a fraction of a second (bench/ui).
The Rules page's edits not saved yet would be lost with the old console, so the console asks
before the language is even saved (app.Console, controllers/unsaved.py): Save them first, Discard
them, or Cancel and keep both the edits and the language.  Asking rather than carrying the form
over into the new console: the same question already guards choosing another child and closing
the window, and carrying it over would need a second way to fill every widget of the page, kept
in step with the first, and a wait for the new console's read of the policy.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from abhaya.ui.console.app import Console
from abhaya.ui.console.service import ConsoleService
from abhaya.ui.console.texts import Texts

RELEASE_INTERVAL_MS = 250
"""How often a retired console is checked for calls still out."""


class ConsoleHost(QObject):
    switched = Signal(object)
    """The new Console, once it has taken over."""

    def __init__(
        self, service: ConsoleService, language: str, *, settings_path: Path | None = None
    ) -> None:
        super().__init__()
        self._service = service
        self._settings_path = settings_path
        self.console = self._build(language)
        self._retired: list[Console] = []
        self.last_switch_s: float | None = None
        """Seconds the last change of language took, from the click to the shown window."""
        self._release = QTimer(self)
        self._release.setInterval(RELEASE_INTERVAL_MS)
        self._release.timeout.connect(self._let_go)

    def _build(self, language: str) -> Console:
        console = Console(self._service, Texts(language), settings_path=self._settings_path)
        console.settings.language_changed.connect(self.switch)
        return console

    def start(self) -> None:
        self.console.start()

    def switch(self, language: str) -> None:
        """Rebuild the console in `language` in place of the current one (signed in)."""
        began = time.perf_counter()
        old = self.console
        new = self._build(language)
        new.take_over(old)  # shown before the old one is hidden: the app never lacks a window
        old.retire()
        self.console = new
        self._retired.append(old)
        self._release.start()
        new.settings.say_language_saved()
        self.last_switch_s = time.perf_counter() - began
        self.switched.emit(new)

    @property
    def retiring(self) -> int:
        """How many replaced consoles still wait for their calls before they are let go."""
        return len(self._retired)

    def _let_go(self) -> None:
        for old in [console for console in self._retired if console.idle]:
            self._retired.remove(old)
            old.window.deleteLater()
        if not self._retired:
            self._release.stop()

    def close(self) -> None:
        self._release.stop()
        for old in self._retired:
            old.close()
        self._retired.clear()
        self.console.close()
