"""Small widgets more than one page builds the same way."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit

MAX_PIN_DIGITS = 12
"""The parent PIN's longest length (the agent takes 4-12 digits)."""


def pin_field() -> QLineEdit:
    """A field for a PIN: its digits are never shown."""
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setMaxLength(MAX_PIN_DIGITS)
    return field


def wrapped_label(text: str = "") -> QLabel:
    """A label of plain words that wraps: the agent's words are never read as rich text."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label
