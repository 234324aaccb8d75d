"""What every page's controller holds: the narrow service to the agent, the runner that makes
its calls off the UI thread, and the words of the console's language."""

from __future__ import annotations

from PySide6.QtCore import QObject

from abhaya.ui.console.runner import Runner
from abhaya.ui.console.service import ConsoleService
from abhaya.ui.console.texts import Texts


class Controller(QObject):
    def __init__(self, service: ConsoleService, runner: Runner, texts: Texts) -> None:
        super().__init__()
        self._service = service
        self._runner = runner
        self._texts = texts
