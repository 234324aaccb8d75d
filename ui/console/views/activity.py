"""The Activity page's layout: the filter row, the events table and the chosen event's detail."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QAbstractItemModel, QDate, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from abhaya.ui.console.controllers.activity import FilterInput
from abhaya.ui.console.texts import Texts

COLUMN_WIDTHS = (150, 190, 170, 150, 90)
"""Fixed starting widths: measuring contents would read every fetched row."""
DETAIL_WIDTH = 280


def _combo(choices: list[tuple[str, str]]) -> QComboBox:
    combo = QComboBox()
    for key, label in choices:
        combo.addItem(label, key)
    return combo


def _date_field() -> tuple[QCheckBox, QDateEdit]:
    """A date that counts only when its box is ticked (an unset date is "any")."""
    used = QCheckBox()
    field = QDateEdit(QDate.currentDate())
    field.setCalendarPopup(True)
    field.setDisplayFormat("yyyy-MM-dd")
    field.setEnabled(False)
    used.toggled.connect(field.setEnabled)
    return used, field


def _day(field: QDateEdit) -> date:
    chosen = field.date()
    return date(chosen.year(), chosen.month(), chosen.day())


class ActivityView(QWidget):
    filters_chosen = Signal(object)
    """A FilterInput, when the parent applies the filter row."""
    row_chosen = Signal(int)

    def __init__(
        self,
        texts: Texts,
        model: QAbstractItemModel,
        kinds: list[tuple[str, str]],
        categories: list[tuple[str, str]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.kind = _combo(kinds)
        self.category = _combo(categories)
        self.since_used, self.since = _date_field()
        self.until_used, self.until = _date_field()
        self.text = QLineEdit()
        self.text.setPlaceholderText(texts("activity.text_hint"))
        self.text.setClearButtonEnabled(True)
        self.apply = QPushButton(texts("activity.apply"))
        self.apply.setDefault(True)

        filters = QFormLayout()
        filters.addRow(texts("activity.kind"), self.kind)
        filters.addRow(texts("activity.category"), self.category)
        filters.addRow(texts("activity.since"), self._paired(self.since_used, self.since))
        filters.addRow(texts("activity.until"), self._paired(self.until_used, self.until))
        filters.addRow(texts("activity.text"), self.text)
        filters.addRow("", self.apply)

        self.table = QTableView()
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate(COLUMN_WIDTHS):
            self.table.setColumnWidth(column, width)
        self.footer = QLabel("")
        self.detail = QLabel(texts("activity.detail_none"))
        self.detail.setWordWrap(True)
        self.detail.setMinimumWidth(DETAIL_WIDTH)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail_none = texts("activity.detail_none")

        table_side = QWidget()
        table_layout = QVBoxLayout(table_side)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addWidget(self.table)
        table_layout.addWidget(self.footer)
        splitter = QSplitter()
        splitter.addWidget(table_side)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)

        layout = QHBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(splitter, 1)

        self.apply.clicked.connect(self._apply)
        self.text.returnPressed.connect(self._apply)
        self.table.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self.row_chosen.emit(current.row())
        )

    @staticmethod
    def _paired(used: QCheckBox, field: QDateEdit) -> QWidget:
        pair = QWidget()
        layout = QHBoxLayout(pair)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(used)
        layout.addWidget(field, 1)
        return pair

    def _apply(self) -> None:
        self.filters_chosen.emit(
            FilterInput(
                kind=self.kind.currentData() or "",
                category=self.category.currentData() or "",
                since=_day(self.since) if self.since_used.isChecked() else None,
                until=_day(self.until) if self.until_used.isChecked() else None,
                text=self.text.text(),
            )
        )

    def show_detail(self, lines: list[tuple[str, str]]) -> None:
        if not lines:
            self.detail.setText(self.detail_none)
            return
        self.detail.setText("\n\n".join(f"{label}:\n{value}" for label, value in lines))

    def show_footer(self, text: str) -> None:
        self.footer.setText(text)
