"""The strip at the top of the window that says the agent is not answering."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget


class Banner(QLabel):
    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)
        self.setObjectName("banner")
        self.setStyleSheet(
            "#banner { background: #fff3cd; color: #5c4400; padding: 8px;"
            " border-bottom: 1px solid #d9b44a; }"
        )
        self.setAccessibleName(text)
        self.hide()
