"""The main window: the banner above the pages, one tab a page (Ctrl+1, Ctrl+2, ... switch)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QMainWindow, QTabWidget, QVBoxLayout, QWidget

from abhaya.ui.console.texts import Texts
from abhaya.ui.console.views.banner import Banner

DEFAULT_SIZE = (1100, 720)


class MainWindow(QMainWindow):
    def __init__(self, texts: Texts, pages: list[tuple[str, QWidget]]) -> None:
        super().__init__()
        self.setWindowTitle(texts("app.title"))
        self.banner = Banner(texts("app.not_answering"))
        self.tabs = QTabWidget()
        for key, page in pages:
            self.tabs.addTab(page, texts(key))
        for number in range(len(pages)):
            shortcut = QShortcut(QKeySequence(f"Ctrl+{number + 1}"), self)
            shortcut.activated.connect(lambda n=number: self.tabs.setCurrentIndex(n))
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.resize(*DEFAULT_SIZE)
        self.may_close: Callable[[], bool] = lambda: True
        """Asked when the parent closes the window: False keeps it open (the console asks
        about unsaved rules first, and closes it again itself once answered)."""

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's naming
        if self.may_close():
            event.accept()
        else:
            event.ignore()

    def show_banner(self, visible: bool) -> None:
        self.banner.setVisible(visible)
