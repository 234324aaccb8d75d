"""The Requests page's layout: the requests with the child's reason, and the answers."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from abhaya.ui.console.controllers.requests import Approval, RequestRow
from abhaya.ui.console.texts import Texts
from abhaya.ui.console.views.rows import RowsTable


class RequestsView(QWidget):
    approve = Signal(object, object)
    """(request id or None, Approval)."""
    deny = Signal(object)
    include_answered = Signal(bool)

    def __init__(self, texts: Texts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        headers = [
            texts(f"requests.{key}") for key in ("when", "child", "site", "reason", "status")
        ]
        self.rows = RowsTable(headers, texts("requests.none"))
        self.rows.table.setColumnWidth(0, 150)
        self.rows.table.setColumnWidth(2, 180)
        self.rows.table.setColumnWidth(3, 280)
        self.show_all = QCheckBox(texts("requests.show_all"))
        self.buttons = {
            Approval.MINUTES_15: QPushButton(texts("requests.approve_15")),
            Approval.HOUR: QPushButton(texts("requests.approve_60")),
            Approval.TODAY: QPushButton(texts("requests.approve_today")),
            Approval.ALWAYS: QPushButton(texts("requests.approve_always")),
        }
        self.deny_button = QPushButton(texts("requests.deny"))
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self._pending: set[int] = set()
        self._deniable: set[int] = set()

        answers = QHBoxLayout()
        for choice, button in self.buttons.items():
            answers.addWidget(button)
            button.clicked.connect(lambda _=False, c=choice: self.approve.emit(self._chosen(), c))
        answers.addWidget(self.deny_button)
        answers.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.show_all)
        layout.addWidget(self.rows, 1)
        layout.addLayout(answers)
        layout.addWidget(self.message)

        self.show_all.toggled.connect(self.include_answered.emit)
        self.deny_button.clicked.connect(lambda: self.deny.emit(self._chosen()))
        self.rows.table.itemSelectionChanged.connect(self._enable)
        self._enable()

    def _chosen(self) -> int | None:
        return self.rows.chosen_id()

    def show_rows(self, requests: tuple[RequestRow, ...]) -> None:
        self._pending = {r.id for r in requests if r.pending}
        self._deniable = {r.id for r in requests if r.deniable}
        self.rows.set_rows(
            [(r.id, (r.when, r.child, r.site, r.reason, r.status)) for r in requests]
        )
        self._enable()

    def _enable(self) -> None:
        """Answers are offered for a pending request only (an expired one can only be denied)."""
        chosen = self._chosen()
        for button in self.buttons.values():
            button.setEnabled(chosen in self._pending)
        self.deny_button.setEnabled(chosen in self._deniable)

    def tell(self, text: str) -> None:
        self.message.setText(text)
