"""The small Qt dialog that asks for the parent PIN (`abhaya tray --ask-pin`).

It runs in its own short-lived process (see `launch`): the PIN is written to standard output
for the tray that started it (exit 0), or nothing when the parent cancels (exit 1).
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QRegularExpression
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from abhaya.ui.tray.words import Language, say


class PinDialog(QDialog):
    """Layout only: a reason, a hidden digits-only field, OK and Cancel."""

    def __init__(self, reason: str, language: Language, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{say(language, 'name')}: {say(language, 'pin_prompt')}")
        self.reason = QLabel(reason)
        self.reason.setWordWrap(True)
        self.field = QLineEdit()
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setValidator(QRegularExpressionValidator(QRegularExpression("[0-9]{0,12}")))
        self.field.setAccessibleName(say(language, "pin_prompt"))
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(say(language, "ok"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(say(language, "cancel"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.reason)
        layout.addWidget(self.field)
        layout.addWidget(self.buttons)
        self.field.setFocus()

    def pin(self) -> str:
        return self.field.text()


def run(reason: str, language: Language) -> int:
    """Show the dialog; print the PIN and return 0, or return 1 when cancelled."""
    app = QApplication.instance() or QApplication([sys.argv[0]])
    dialog = PinDialog(reason, language)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    accepted = dialog.exec() == QDialog.DialogCode.Accepted
    del app
    if not accepted or not dialog.pin():
        return 1
    print(dialog.pin(), flush=True)
    return 0
