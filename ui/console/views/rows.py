"""A read-only table of rows of words, with a line shown in its place when it is empty."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QStackedLayout,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)


class RowsTable(QWidget):
    def __init__(self, headers: Sequence[str], empty_text: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.table = QTableWidget(0, len(headers))
        self.table.setHorizontalHeaderLabels(list(headers))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.empty = QLabel(empty_text)
        self._stack = QStackedLayout(self)
        self._stack.addWidget(self.table)
        self._stack.addWidget(self.empty)
        self._ids: list[int] = []

    def set_rows(self, rows: Sequence[tuple[int, Sequence[str]]]) -> None:
        """(id, cells) per row; the chosen row is kept when its id is still there."""
        chosen = self.chosen_id()
        self._ids = [ident for ident, _ in rows]
        self.table.setRowCount(len(rows))
        for number, (_, cells) in enumerate(rows):
            for column, text in enumerate(cells):
                self.table.setItem(number, column, QTableWidgetItem(text))
        if chosen in self._ids:
            self.table.selectRow(self._ids.index(chosen))
        self._stack.setCurrentWidget(self.table if rows else self.empty)

    def chosen_id(self) -> int | None:
        row = self.table.currentRow()
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def choose(self, row: int) -> None:
        self.table.selectRow(row)
        self.table.setCurrentCell(row, 0)
