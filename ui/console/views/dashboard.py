"""The dashboard's layout: protection, problems, two charts, top sites, alerts and requests."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QListWidget,
    QVBoxLayout,
    QWidget,
)

from abhaya.ui.console.controllers.dashboard import DashboardState
from abhaya.ui.console.texts import Texts
from abhaya.ui.console.views.barchart import BarChart
from abhaya.ui.console.views.fields import wrapped_label

ON_STYLE = "color: #1b5e20; font-weight: bold;"
OFF_STYLE = "color: #8a4b00; font-weight: bold;"


class DashboardView(QWidget):
    def __init__(self, texts: Texts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.protection = wrapped_label(texts("dashboard.loading"))
        self.problems = wrapped_label()
        self.no_problems = texts("dashboard.no_problems")
        self.today = BarChart(texts("dashboard.nothing"))
        self.week = BarChart(texts("dashboard.nothing"))
        self.top_sites = QListWidget()
        self.top_sites.setAccessibleName(texts("dashboard.top_sites"))
        self.alerts = wrapped_label()
        self.requests = wrapped_label()

        state_box = QGroupBox(texts("dashboard.protection"))
        state_layout = QVBoxLayout(state_box)
        for widget in (self.protection, self.problems, self.alerts, self.requests):
            state_layout.addWidget(widget)

        grid = QGridLayout(self)
        grid.addWidget(state_box, 0, 0, 1, 2)
        grid.addWidget(self._boxed(texts("dashboard.today"), self.today), 1, 0)
        grid.addWidget(self._boxed(texts("dashboard.week"), self.week), 1, 1)
        grid.addWidget(self._boxed(texts("dashboard.top_sites"), self.top_sites), 2, 0, 1, 2)
        grid.setRowStretch(2, 1)

    @staticmethod
    def _boxed(title: str, widget: QWidget) -> QGroupBox:
        box = QGroupBox(title)
        QVBoxLayout(box).addWidget(widget)
        return box

    def show_state(self, state: DashboardState) -> None:
        self.protection.setText(state.protection)
        self.protection.setStyleSheet(ON_STYLE if state.protected else OFF_STYLE)
        if state.problems:
            self.problems.setText("\n".join(f"• {problem}" for problem in state.problems))
            self.problems.setStyleSheet(OFF_STYLE)
        else:
            self.problems.setText(self.no_problems)
            self.problems.setStyleSheet("")
        self.today.set_rows(state.today)
        self.week.set_rows(state.week)
        self.top_sites.clear()
        self.top_sites.addItems([f"{name} — {count}" for name, count in state.top_sites])
        self.alerts.setText(state.alerts)
        self.requests.setText(state.requests)
