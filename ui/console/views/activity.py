"""The Activity page's layout: the filter row, the events table and the chosen event's detail,
with "allow this site" / "block this site" under it."""

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
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from abhaya.ui.console.controllers.activity import FilterInput
from abhaya.ui.console.controllers.sites import SiteChange, SiteOffer
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
    site_asked = Signal(str, str)
    """("allow" or "block", whom for): the parent pressed a site button."""
    site_confirmed = Signal(object)
    """The SiteChange the parent confirmed."""

    def __init__(
        self,
        texts: Texts,
        model: QAbstractItemModel,
        kinds: list[tuple[str, str]],
        categories: list[tuple[str, str]],
        reasons: list[tuple[str, str]] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._texts = texts
        self.kind = _combo(kinds)
        self.category = _combo(categories)
        self.reason = _combo(reasons or [("", texts("activity.any"))])
        self.profile = _combo([("", texts("activity.any"))])
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
        filters.addRow(texts("activity_filters.reason"), self.reason)
        filters.addRow(texts("activity_filters.profile"), self.profile)
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
        self.confirm_box: QMessageBox | None = None
        detail_side = self._detail_side()

        table_side = QWidget()
        table_layout = QVBoxLayout(table_side)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addWidget(self.table)
        table_layout.addWidget(self.footer)
        splitter = QSplitter()
        splitter.addWidget(table_side)
        splitter.addWidget(detail_side)
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

    def _detail_side(self) -> QWidget:
        """The detail, then what can be done about its site: for whom, allow, block."""
        texts = self._texts
        self.site_heading = QLabel("")
        self.site_for = QComboBox()
        self.allow_site = QPushButton(texts("site_rules.allow"))
        self.block_site = QPushButton(texts("site_rules.block"))
        self.site_note = QLabel("")
        self.site_message = QLabel("")
        for label in (self.site_note, self.site_message):
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.PlainText)
        whom = QFormLayout()
        whom.addRow(texts("site_rules.for_whom"), self.site_for)
        buttons = QHBoxLayout()
        buttons.addWidget(self.allow_site)
        buttons.addWidget(self.block_site)
        self.site_box = QWidget()
        site_layout = QVBoxLayout(self.site_box)
        site_layout.setContentsMargins(0, 0, 0, 0)
        site_layout.addWidget(self.site_heading)
        site_layout.addLayout(whom)
        site_layout.addLayout(buttons)
        site_layout.addWidget(self.site_note)
        self.site_box.hide()
        side = QWidget()
        layout = QVBoxLayout(side)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.detail, 1)
        layout.addWidget(self.site_box)
        layout.addWidget(self.site_message)
        self.allow_site.clicked.connect(lambda: self._site_pressed("allow"))
        self.block_site.clicked.connect(lambda: self._site_pressed("block"))
        return side

    def _site_pressed(self, listed: str) -> None:
        self.site_asked.emit(listed, self.site_for.currentData() or "")

    def show_profiles(self, choices: list[tuple[str, str]]) -> None:
        """The filter's children, from the policy; the one chosen stays chosen if still there."""
        chosen = self.profile.currentData()
        self.profile.clear()
        for key, label in choices:
            self.profile.addItem(label, key)
        self.profile.setCurrentIndex(max(self.profile.findData(chosen), 0))

    def show_offer(self, offer: SiteOffer | None) -> None:
        if offer is None:
            self.site_box.hide()
            return
        self.site_heading.setText(self._texts("site_rules.heading", site=offer.site))
        self.site_for.clear()
        for key, label in offer.targets:
            self.site_for.addItem(label, key)
        self.allow_site.setEnabled(offer.can_allow)
        self.block_site.setEnabled(offer.can_block)
        self.site_note.setText(offer.note)
        self.site_note.setVisible(bool(offer.note))
        self.site_box.show()

    def ask(self, change: SiteChange) -> None:
        """The confirmation, in words; opened (not exec'd), so the window keeps running."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self._texts("site_rules.heading", site=change.site),
            change.question,
            parent=self,
        )
        confirm = box.addButton(
            self._texts(f"site_rules.confirm_{change.listed}"), QMessageBox.ButtonRole.AcceptRole
        )
        box.addButton(self._texts("site_rules.cancel"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(confirm)
        box.finished.connect(
            lambda _: self.site_confirmed.emit(change) if box.clickedButton() is confirm else None
        )
        self.confirm_box = box
        box.open()

    def show_site_message(self, text: str) -> None:
        self.site_message.setText(text)

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
                reason=self.reason.currentData() or "",
                profile=self.profile.currentData() or "",
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
