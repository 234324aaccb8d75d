"""The Reports page against a real agent: a blocked request in the week's report, its PDF and CSV.

The PDF is Qt's own (QPdfWriter); pypdf reads its text back, so a report that draws boxes or
nothing fails here.  Screenshots of the page in English and Hindi at 100% and 150%.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from abhaya.ui.console.texts import Texts
from tests.agent.test_cli import AgentProcess
from tests.ui.console.conftest import ARTIFACTS, data_dir, open_console, screenshot, sign_in

SCALES = (1.0, 1.5)


def _pdf_text(path: Path) -> tuple[int, str]:
    reader = PdfReader(path)
    text = " ".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), " ".join(text.split())  # pypdf may read a space as a tab


def _fonts(path: Path) -> set[str]:
    fonts = PdfReader(path).pages[0]["/Resources"]["/Font"]
    return {str(font.get_object()["/BaseFont"]) for font in fonts.values()}


@pytest.mark.parametrize("language", ["en", "hi"])
def test_a_blocked_request_is_in_the_weeks_report_its_pdf_and_csv(
    qtbot: QtBot, agent: AgentProcess, tmp_path: Path, language: str
) -> None:
    texts = Texts(language)
    site = f"adult.example/report-{language}"
    assert agent.status_of(f"https://{site}") == 403
    console = open_console(qtbot, data_dir(agent), language)
    sign_in(qtbot, console)
    view = console.reports_view
    assert not view.pdf_button.isEnabled()
    console.window.tabs.setCurrentWidget(view)  # the first visit makes the report
    qtbot.waitUntil(lambda: console.reports.report is not None, timeout=20_000)
    report = console.reports.report
    assert report is not None
    adult = texts.category("adult")
    assert adult in {line.name for line in report.categories}
    assert ("adult.example", report.top_sites[0][1]) in report.top_sites
    shown = view.browser.toPlainText()
    assert texts("reports.categories") in shown and adult in shown and "adult.example" in shown
    assert report.trend in shown
    assert view.pdf_button.isEnabled() and view.csv_button.isEnabled()
    console.window.resize(1100, 720)
    for scale in SCALES:
        screenshot(console.window, f"reports-{language}", scale)

    pdf = tmp_path / "week.pdf"
    assert console.reports.save_pdf(pdf)
    assert view.message.text() == texts("reports.saved", path=str(pdf))
    pages, text = _pdf_text(pdf)
    assert pages >= 1
    assert "adult.example" in text
    assert report.period(texts).split()[0] in text  # the first day's date
    if language == "en":
        assert "Abhaya weekly report" in text and "Adult content" in text
    else:  # drawn with a Devanagari font, not boxes; words without conjuncts read back whole
        assert "अभय" in text and "के अनुसार" in text
        assert any("NotoSansDevanagari" in name for name in _fonts(pdf))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"report-{language}.pdf").write_bytes(pdf.read_bytes())

    out = tmp_path / "week.csv"
    assert console.reports.save_csv(out)
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][0] == texts("reports.csv_section")
    categories = {row[1]: int(row[2]) for row in rows if row[0] == texts("reports.csv_category")}
    assert categories[adult] >= 1
    sites = [row[1] for row in rows if row[0] == texts("reports.csv_site")]
    assert "adult.example" in sites
    console.close()


def test_a_file_that_cannot_be_written_is_said_in_words(
    qtbot: QtBot, agent: AgentProcess, tmp_path: Path
) -> None:
    console = open_console(qtbot, data_dir(agent))
    sign_in(qtbot, console)
    qtbot.mouseClick(console.reports_view.make_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: console.reports.report is not None, timeout=20_000)
    missing = tmp_path / "no-such-folder" / "week.csv"
    assert not console.reports.save_csv(missing)
    message = console.reports_view.message.text()
    assert message.startswith(f"Could not save {missing}: ")
    assert not console.reports.save_pdf(tmp_path / "no-such-folder" / "week.pdf")
    console.close()
