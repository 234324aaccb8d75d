"""The Alerts page's layout: the list, what raised the chosen alert, "mark as reviewed", and for
a known-image alert "save the report for the police" (into a folder the parent picks)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QStandardPaths, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from abhaya.ui.console.controllers.alerts import AlertRow
from abhaya.ui.console.texts import Texts
from abhaya.ui.console.views.rows import RowsTable


def ask_for_folder(parent: QWidget, title: str) -> str:
    """The folder the parent picks for the report ("" when cancelled); Documents to start."""
    start = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return QFileDialog.getExistingDirectory(parent, title, start)


class AlertsView(QWidget):
    mark_reviewed = Signal(int)
    include_reviewed = Signal(bool)
    save_report = Signal(int, str)
    """(the alert's image event, the folder chosen for its evidence package)."""

    def __init__(self, texts: Texts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        headers = [
            texts(f"alerts.{key}") for key in ("when", "severity", "reviewed", "child", "what")
        ]
        self.rows = RowsTable(headers, texts("alerts.none"))
        self.rows.table.setColumnWidth(0, 150)
        self.rows.table.setColumnWidth(1, 170)
        self.rows.table.setColumnWidth(2, 90)
        self.rows.table.setColumnWidth(3, 90)
        self.show_reviewed = QCheckBox(texts("alerts.show_reviewed"))
        self.mark = QPushButton(texts("alerts.mark_reviewed"))
        self.report = QPushButton(texts("evidence.save"))
        self.report.setVisible(False)
        self.choose_folder: Callable[[QWidget, str], str] = ask_for_folder
        """Asks for the report's folder; a test puts its own folder here."""
        self._folder_title = texts("evidence.choose_folder")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail = QLabel(texts("alerts.detail_none"))
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.detail.setWordWrap(True)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.detail.setMinimumWidth(300)
        self._detail_none = texts("alerts.detail_none")
        self._alerts: dict[int, AlertRow] = {}

        actions = QHBoxLayout()
        actions.addWidget(self.show_reviewed)
        actions.addStretch(1)
        actions.addWidget(self.report)
        actions.addWidget(self.mark)
        splitter = QSplitter()
        splitter.addWidget(self.rows)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(actions)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.message)

        self.show_reviewed.toggled.connect(self.include_reviewed.emit)
        self.mark.clicked.connect(self._mark)
        self.report.clicked.connect(self._save_report)
        self.rows.table.itemSelectionChanged.connect(self._show_detail)

    def show_rows(self, alerts: tuple[AlertRow, ...]) -> None:
        self._alerts = {alert.id: alert for alert in alerts}
        self.rows.set_rows(
            [(a.id, (a.when, a.severity, a.reviewed, a.child, a.what)) for a in alerts]
        )
        self._show_detail()

    def _show_detail(self) -> None:
        chosen = self._alerts.get(self.rows.chosen_id() or -1)
        self.detail.setText("\n".join(chosen.detail) if chosen else self._detail_none)
        self.mark.setEnabled(chosen is not None and not chosen.acknowledged)
        self.report.setVisible(chosen is not None and chosen.event is not None)

    def _save_report(self) -> None:
        chosen = self._alerts.get(self.rows.chosen_id() or -1)
        if chosen is None or chosen.event is None:
            return
        folder = self.choose_folder(self, self._folder_title)
        if folder:
            self.save_report.emit(chosen.event, folder)

    def _mark(self) -> None:
        chosen = self.rows.chosen_id()
        if chosen is not None:
            self.mark_reviewed.emit(chosen)
