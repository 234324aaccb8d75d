"""A horizontal bar chart drawn with QPainter: label, bar, count, one row each.

Drawn by hand so the console needs only `pyside6-essentials`, not the QtCharts of
`pyside6-addons`; counts per category are all these charts show.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

ROW_GAP = 6
LABEL_SHARE = 0.45


class BarChart(QWidget):
    def __init__(self, empty_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: tuple[tuple[str, int], ...] = ()
        self._empty_text = empty_text
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def set_rows(self, rows: tuple[tuple[str, int], ...]) -> None:
        self._rows = rows
        self.setAccessibleDescription(", ".join(f"{label}: {count}" for label, count in rows))
        self.updateGeometry()
        self.update()

    def rows(self) -> tuple[tuple[str, int], ...]:
        return self._rows

    def _row_height(self) -> int:
        return self.fontMetrics().height() + ROW_GAP

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(360, max(1, len(self._rows)) * self._row_height() + ROW_GAP)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return self.sizeHint()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        palette = self.palette()
        painter.setPen(palette.color(QPalette.ColorRole.WindowText))
        if not self._rows:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignLeft, self._empty_text)
            return
        height = self._row_height()
        label_width = self.width() * LABEL_SHARE
        count_width = self.fontMetrics().horizontalAdvance("000000")
        bar_space = max(1.0, self.width() - label_width - count_width - 2 * ROW_GAP)
        biggest = max(count for _, count in self._rows) or 1
        for number, (label, count) in enumerate(self._rows):
            top = number * height
            text_rect = QRectF(0, top, label_width - ROW_GAP, height)
            shown = self.fontMetrics().elidedText(
                label, Qt.TextElideMode.ElideRight, int(text_rect.width())
            )
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter, shown)
            bar = QRectF(
                label_width, top + ROW_GAP / 2, bar_space * count / biggest, height - ROW_GAP
            )
            painter.fillRect(bar, palette.color(QPalette.ColorRole.Highlight))
            count_rect = QRectF(bar.right() + ROW_GAP, top, count_width, height)
            painter.drawText(count_rect, Qt.AlignmentFlag.AlignVCenter, str(count))
