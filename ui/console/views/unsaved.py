"""The question put before the Rules page's unsaved edits would be dropped: Save, Discard, Cancel.

Opened, not exec'd (as the Activity page's confirmation), so the window keeps running and a
test answers it by pressing its buttons.  Qt's standard buttons are given the console's own
words, since Qt's translations are not loaded and would leave them in English.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget

from abhaya.ui.console.controllers.unsaved import Answer
from abhaya.ui.console.texts import Texts

Button = QMessageBox.StandardButton
_ANSWERS = {Button.Save: Answer.SAVE, Button.Discard: Answer.DISCARD, Button.Cancel: Answer.CANCEL}


def ask_unsaved(
    parent: QWidget, texts: Texts, child: str, answered: Callable[[Answer], None]
) -> QMessageBox:
    """Ask whether to save `child`'s rules; `answered` gets the answer (Cancel when the box is
    closed with Escape or its window's close button)."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        texts("unsaved.title"),
        texts("unsaved.question", child=child),
        Button.Save | Button.Discard | Button.Cancel,
        parent,
    )
    box.setInformativeText(texts("unsaved.details"))
    for button, answer in _ANSWERS.items():
        box.button(button).setText(texts(f"unsaved.{answer}"))
    box.setDefaultButton(Button.Save)
    box.setEscapeButton(Button.Cancel)
    box.finished.connect(lambda _: answered(_answer(box)))
    box.open()
    return box


def _answer(box: QMessageBox) -> Answer:
    clicked = box.clickedButton()
    if clicked is None:
        return Answer.CANCEL
    return _ANSWERS.get(box.standardButton(clicked), Answer.CANCEL)
