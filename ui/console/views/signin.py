"""The PIN dialog: sign in, or (with `first=True`) set the first PIN twice."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from abhaya.ui.console.texts import Texts
from abhaya.ui.console.views.fields import pin_field


class SignInDialog(QDialog):
    submitted = Signal(str, str)
    """(pin, the same again; "" when signing in)."""

    def __init__(self, texts: Texts, first: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.first = first
        self.setWindowTitle(texts("signin.set_title" if first else "signin.title"))
        self.prompt = QLabel(texts("signin.set_prompt" if first else "signin.prompt"))
        self.prompt.setWordWrap(True)
        self.pin = pin_field()
        self.again = pin_field()
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setObjectName("message")
        form = QFormLayout()
        form.addRow(texts("signin.new_pin" if first else "signin.pin"), self.pin)
        if first:
            form.addRow(texts("signin.confirm_pin"), self.again)
        else:
            self.again.hide()
        self.buttons = QDialogButtonBox()
        self.ok = self.buttons.addButton(
            texts("signin.set_pin" if first else "signin.sign_in"),
            QDialogButtonBox.ButtonRole.AcceptRole,
        )
        self.ok.setDefault(True)
        self.buttons.addButton(texts("signin.cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.prompt)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.pin.setFocus()

    def _submit(self) -> None:
        self.submitted.emit(self.pin.text(), self.again.text() if self.first else "")

    def show_message(self, text: str, *, busy: bool = False) -> None:
        self.message.setText(text)
        self.ok.setEnabled(busy is False)
        if not busy:
            self.pin.selectAll()
            self.pin.setFocus()
