"""The Reports page's layout, and the report as HTML: shown on the page and printed to PDF.

The page and the PDF are the same HTML document, so what a parent saves is what they saw.  The
PDF is written by Qt's own writer (QPdfWriter, in pyside6-essentials), with Noto fonts named
first so Hindi (Devanagari) is drawn with real glyphs, not boxes.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import QMarginsF, QStandardPaths, Signal, SignalInstance
from PySide6.QtGui import QFont, QPageLayout, QPageSize, QPdfWriter, QTextDocument
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from abhaya.ui.console.report import MAX_EVENTS, Line, WeeklyReport, report_file_stem
from abhaya.ui.console.texts import Texts

FONTS = ["Noto Sans", "Noto Sans Devanagari", "DejaVu Sans", "sans-serif"]
PDF_DPI = 300
STYLE = (
    "body { font-size: 10pt; } h1 { font-size: 16pt; } h2 { font-size: 12pt; margin-top: 12px; }"
    " th { text-align: left; background: #eeeeee; } td, th { padding: 3px 8px; }"
)


def _table(headers: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f"<p>{escape(empty)}</p>"
    head = "".join(f"<th>{escape(cell)}</th>" for cell in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f'<table border="1" cellspacing="0" width="100%"><tr>{head}</tr>{body}</table>'


def _counted(lines: tuple[Line, ...]) -> list[list[str]]:
    return [
        [line.name, str(line.this_week), str(line.week_before), f"{line.change:+d}"]
        for line in lines
    ]


def report_html(report: WeeklyReport, texts: Texts) -> str:
    period = report.period(texts)
    subtitle = texts(
        "reports.subtitle",
        period=period,
        before=report.before_period(texts),
        zone=report.timezone,
        made=report.made,
    )
    count_headers = [texts(f"reports.{key}") for key in ("name", "this_week", "week_before")]
    count_headers.append(texts("reports.change"))
    parts = [
        f"<h1>{escape(texts('reports.heading', period=period))}</h1>",
        f"<p>{escape(subtitle)}</p>",
        f"<p><b>{escape(report.trend)}</b></p>",
    ]
    if not report.complete:
        parts.append(f"<p>{escape(texts('reports.cut', count=MAX_EVENTS))}</p>")
    nothing = texts("reports.nothing")
    parts += [
        f"<h2>{escape(texts('reports.categories'))}</h2>",
        _table(count_headers, _counted((report.total, *report.categories)), nothing),
        f"<h2>{escape(texts('reports.kinds'))}</h2>",
        _table(count_headers, _counted(report.kinds), nothing),
        f"<h2>{escape(texts('reports.top_sites'))}</h2>",
        _table(
            [texts("reports.site"), texts("reports.count")],
            [[site, str(count)] for site, count in report.top_sites],
            nothing,
        ),
        f"<h2>{escape(texts('reports.alerts'))}</h2>",
        _table(
            [texts(f"reports.{key}") for key in ("when", "severity", "child", "what")],
            [[a.when, a.severity, a.child, a.what] for a in report.alerts],
            texts("reports.no_alerts"),
        ),
    ]
    return f"<html><head><style>{STYLE}</style></head><body>{''.join(parts)}</body></html>"


def _font() -> QFont:
    font = QFont()
    font.setFamilies(FONTS)
    font.setPointSize(10)
    return font


def write_pdf(report: WeeklyReport, texts: Texts, path: Path) -> None:
    """Print the report's HTML to an A4 PDF; OSError when the file cannot be written."""
    writer = QPdfWriter(str(path))
    writer.setResolution(PDF_DPI)
    writer.setTitle(texts("reports.heading", period=report.period(texts)))
    writer.setCreator("Abhaya")
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(15, 15, 15, 15),
            QPageLayout.Unit.Millimeter,
        )
    )
    document = QTextDocument()
    document.setDefaultFont(_font())
    document.setHtml(report_html(report, texts))
    document.print_(writer)
    del writer  # the file is finished when the writer goes
    if not path.is_file() or path.stat().st_size == 0:
        raise OSError(f"Qt could not write {path}")


class ReportsView(QWidget):
    make = Signal()
    pdf_chosen = Signal(str)
    csv_chosen = Signal(str)

    def __init__(self, texts: Texts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._texts = texts
        self.make_button = QPushButton(texts("reports.make"))
        self.pdf_button = QPushButton(texts("reports.save_pdf"))
        self.csv_button = QPushButton(texts("reports.save_csv"))
        self.pdf_button.setEnabled(False)
        self.csv_button.setEnabled(False)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.document().setDefaultFont(_font())
        self.browser.setPlainText(texts("reports.none"))
        self.browser.setAccessibleName(texts("reports.title"))
        self._stem = "abhaya-week"

        buttons = QHBoxLayout()
        buttons.addWidget(self.make_button)
        buttons.addStretch(1)
        buttons.addWidget(self.pdf_button)
        buttons.addWidget(self.csv_button)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(self.browser, 1)

        self.make_button.clicked.connect(self.make.emit)
        self.pdf_button.clicked.connect(lambda: self._choose("pdf", self.pdf_chosen))
        self.csv_button.clicked.connect(lambda: self._choose("csv", self.csv_chosen))

    def show_report(self, report: WeeklyReport) -> None:
        self._stem = report_file_stem(report)
        self.browser.setHtml(report_html(report, self._texts))
        self.pdf_button.setEnabled(True)
        self.csv_button.setEnabled(True)

    def _choose(self, suffix: str, chosen: SignalInstance) -> None:
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        suggested = str(Path(folder or Path.home()) / f"{self._stem}.{suffix}")
        path, _ = QFileDialog.getSaveFileName(self, "", suggested, f"*.{suffix}")
        if path:
            chosen.emit(path)
