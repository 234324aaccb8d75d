"""The Reports page's logic: fetch the fortnight off the UI thread, make the report, save it.

The numbers come from `report.build_report` (pure); this only runs the call, keeps the last
report and saves it: the CSV here, the PDF through the writer the app passes in (drawing a
PDF is layout, a view's job).  A file that cannot be written is said in words, never raised.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import Signal

from abhaya.client.api import ClientError
from abhaya.ui.console.controllers.base import Controller
from abhaya.ui.console.report import ReportInput, WeeklyReport, build_report, write_csv
from abhaya.ui.console.runner import Runner
from abhaya.ui.console.service import ConsoleService
from abhaya.ui.console.texts import Texts

PdfWriter = Callable[[WeeklyReport, Path], None]
"""Writes the report as a PDF at the path; raises OSError when it cannot."""


class ReportsController(Controller):
    made = Signal(object)
    """A WeeklyReport, ready to lay out."""
    told = Signal(str)

    def __init__(
        self,
        service: ConsoleService,
        runner: Runner,
        texts: Texts,
        pdf_writer: PdfWriter,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(service, runner, texts)
        self._pdf_writer = pdf_writer
        self._clock = clock
        self._in_flight = False
        self.report: WeeklyReport | None = None

    def make(self) -> None:
        if self._in_flight:
            return
        self._in_flight = True
        self.told.emit(self._texts("reports.loading"))
        self._runner.submit(self._service.report_input, self._show, self._refused)

    def _show(self, data: ReportInput) -> None:
        self._in_flight = False
        self.report = build_report(data, self._texts, self._clock())
        self.told.emit("")
        self.made.emit(self.report)

    def _refused(self, error: ClientError) -> None:
        self._in_flight = False
        self.told.emit(self._texts("reports.refused", message=str(error)))

    def save_csv(self, path: Path) -> bool:
        report = self.report
        if report is None:
            return False
        return self._save(path, lambda: self._write_csv(report, path))

    def save_pdf(self, path: Path) -> bool:
        report = self.report
        if report is None:
            return False
        return self._save(path, lambda: self._pdf_writer(report, path))

    def _write_csv(self, report: WeeklyReport, path: Path) -> None:
        with path.open("w", encoding="utf-8", newline="") as out:
            write_csv(report, self._texts, out)

    def _save(self, path: Path, write: Callable[[], None]) -> bool:
        try:
            write()
        except OSError as error:
            reason = error.strerror or str(error)
            self.told.emit(self._texts("reports.not_saved", path=str(path), reason=reason))
            return False
        self.told.emit(self._texts("reports.saved", path=str(path)))
        return True
