"""Asking before the Rules page's unsaved edits would be dropped.

The page is refilled, or the console rebuilt or closed, by actions taken elsewhere than its Save
button: choosing another child, "Refresh", the language changed on the Settings page, the window
closed.  Each goes through `before`, which lets it happen at once when the page holds nothing
unsaved, and otherwise asks the parent first: Save (through the page's own save, and the action
goes on only once the agent took it; a refusal keeps the parent on the page, shown why),
Discard (the action goes on), or Cancel (nothing happens; the chooser that started it is put
back).  The question itself is the view's (`Ask`), so this logic has no dialog in it.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from PySide6.QtCore import QObject, Signal

from abhaya.ui.console.controllers.rules import Place, RulesController, RulesForm, unsaved


class Answer(StrEnum):
    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


Ask = Callable[[str, Callable[[Answer], None]], None]
"""Put the question about the named child's rules to the parent, and call back with the answer
once it is given (later, from the event loop: the window keeps running meanwhile)."""

Forms = Callable[[], tuple[RulesForm | None, RulesForm]]
"""The page's form as it was filled (None before it was) and as it stands now."""


def _nothing() -> None:
    """The action needs nothing put back (the window closed, "Refresh")."""


class UnsavedRules(QObject):
    save_refused = Signal()
    """The parent answered Save and the agent refused: the Rules page is to be shown, with why."""

    def __init__(self, rules: RulesController, forms: Forms, ask: Ask) -> None:
        super().__init__()
        self._rules = rules
        self._forms = forms
        self._ask = ask
        self._saving = False
        rules.refused.connect(self._refused)

    def has_unsaved(self) -> bool:
        """Edits the page could save and has not.  On rules that cannot be changed (the agent's
        embedded policy, which the page says at its top, with Save turned off) nothing is asked:
        a question offering Save could only end in a refusal."""
        state = self._rules.state
        filled, now = self._forms()
        return (
            state is not None
            and state.editable
            and filled is not None
            and unsaved(state, filled, now)
        )

    def before(self, go: Callable[[], None], put_back: Callable[[], None] = _nothing) -> None:
        """Run `go`, an action that would drop the page's edits, now or after asking.

        `put_back` shows again what the page still shows (the chooser the parent moved): on
        Cancel, and on Save until the save went through and `go` runs.
        """
        state = self._rules.state
        if state is None or not self.has_unsaved():
            go()
            return
        self._ask(state.profile.name, lambda answer: self._answered(answer, go, put_back))

    def _answered(
        self, answer: Answer, go: Callable[[], None], put_back: Callable[[], None]
    ) -> None:
        if answer is Answer.DISCARD:
            go()
            return
        put_back()
        if answer is Answer.SAVE:
            self._saving = True
            self._rules.save(self._forms()[1], then=lambda: self._saved(go))

    def _saved(self, go: Callable[[], None]) -> None:
        self._saving = False
        go()

    def _refused(self, places: dict[Place, str]) -> None:
        if places and self._saving:
            self._saving = False
            self.save_refused.emit()
