"""The week grid a parent paints: 7 days of 48 half hours, allowed or not.

Layout and input only: it shows a `WeekGrid` and gives back the painted one; what the grid
means for the policy is `schedulegrid`'s and the controller's business.

Mouse: a press on a half hour switches it, and a drag paints the rectangle from there with
that same choice.  Keyboard: the arrow keys move the outlined half hour (Home and End go to
the ends of the day), Space switches it, and Shift with an arrow paints the half hour moved
to with the choice of the one left, so a run can be painted without a mouse.  Allowed and
not allowed differ in pattern as well as in colour, for parents who do not see colour.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFocusEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from abhaya.ui.console.policyedit import DAYS
from abhaya.ui.console.schedulegrid import SLOTS_PER_DAY, Cell, WeekGrid, block, slot_clock
from abhaya.ui.console.texts import Texts

ALLOWED = QColor("#3f9b55")
NOT_ALLOWED = QColor("#e4e4e4")
HATCH = QColor("#9a9a9a")
CURSOR = QColor("#1a4fa0")
LINE = QColor("#ffffff")
_MIN_CELL_WIDTH = 13
_STEP = {
    Qt.Key.Key_Left: (0, -1),
    Qt.Key.Key_Right: (0, 1),
    Qt.Key.Key_Up: (-1, 0),
    Qt.Key.Key_Down: (1, 0),
}


class WeekGridView(QWidget):
    changed = Signal(object)
    """The WeekGrid after each paint."""
    cursor_moved = Signal(str)
    """The outlined half hour in words ("Monday 16:00 to 16:30: allowed")."""

    def __init__(self, texts: Texts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._texts = texts
        self._grid = WeekGrid.filled(True)
        self._cursor: Cell = (0, 0)
        self._drag: tuple[Cell, bool, WeekGrid] | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName(texts("rulesgrid.grid_name"))
        self.setToolTip(texts("rulesgrid.grid_keys"))

    # -- state -----------------------------------------------------------------------------

    def grid(self) -> WeekGrid:
        return self._grid

    def set_grid(self, grid: WeekGrid) -> None:
        """Show `grid` (from the agent's policy): not a paint, so `changed` is not sent."""
        self._grid = grid
        self._drag = None
        self._announce()
        self.update()

    def cursor_cell(self) -> Cell:
        """The outlined half hour (keyboard input acts on it)."""
        return self._cursor

    def describe(self, cell: Cell) -> str:
        day, slot = cell
        state = "rulesgrid.allowed" if self._grid[cell] else "rulesgrid.not_allowed"
        return self._texts(
            "rulesgrid.cell",
            day=self._texts(f"rulesgrid.day_{DAYS[day]}"),
            start=slot_clock(slot),
            end=slot_clock(slot + 1),
            state=self._texts(state),
        )

    def _paint(self, grid: WeekGrid) -> None:
        if grid != self._grid:
            self._grid = grid
            self.changed.emit(grid)
        self._announce()
        self.update()

    def _announce(self) -> None:
        words = self.describe(self._cursor)
        self.setAccessibleDescription(words)
        self.cursor_moved.emit(words)

    # -- geometry --------------------------------------------------------------------------

    def _label_width(self) -> int:
        metrics = self.fontMetrics()
        names = (self._texts(f"rulesgrid.day_{day}") for day in DAYS)
        return max(metrics.horizontalAdvance(name) for name in names) + 12

    def _header_height(self) -> int:
        return self.fontMetrics().height() + 6

    def _row_height(self) -> int:
        return self.fontMetrics().height() + 10

    def _cell_width(self) -> float:
        free = self.width() - self._label_width() - 2
        return max(float(_MIN_CELL_WIDTH), free / SLOTS_PER_DAY)

    def _cell_rect(self, cell: Cell) -> QRect:
        day, slot = cell
        width = self._cell_width()
        left = self._label_width() + round(slot * width)
        right = self._label_width() + round((slot + 1) * width)
        top = self._header_height() + day * self._row_height()
        return QRect(left, top, right - left, self._row_height())

    def cell_at(self, point: QPoint) -> Cell | None:
        x = point.x() - self._label_width()
        y = point.y() - self._header_height()
        if x < 0 or y < 0:
            return None
        day, slot = y // self._row_height(), int(x / self._cell_width())
        if day >= len(DAYS) or slot >= SLOTS_PER_DAY:
            return None
        return day, slot

    def cell_center(self, cell: Cell) -> QPoint:
        """Where a click lands on `cell` (for tests that use the real mouse path)."""
        return self._cell_rect(cell).center()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's naming
        width = self._label_width() + SLOTS_PER_DAY * 18 + 2
        return QSize(width, self._header_height() + len(DAYS) * self._row_height() + 2)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's naming
        width = self._label_width() + SLOTS_PER_DAY * _MIN_CELL_WIDTH + 2
        return QSize(width, self.sizeHint().height())

    # -- painting --------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's naming
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        text_color = self.palette().color(self.foregroundRole())
        painter.setPen(text_color)
        header = self._header_height()
        for hour in range(0, 24, 2):  # every second hour, over its line: readable at any scale
            left = self._cell_rect((0, hour * 2)).left()
            label = QRect(left - 20, 0, 40, header)
            painter.drawText(label, Qt.AlignmentFlag.AlignCenter, f"{hour:02d}")
        for day, name in enumerate(DAYS):
            row = self._cell_rect((day, 0))
            label = QRect(0, row.top(), self._label_width() - 6, row.height())
            align = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight
            painter.drawText(label, align, self._texts(f"rulesgrid.day_{name}"))
        hatch = QBrush(HATCH, Qt.BrushStyle.BDiagPattern)
        for day in range(len(DAYS)):
            for slot in range(SLOTS_PER_DAY):
                rect = self._cell_rect((day, slot))
                if self._grid[(day, slot)]:
                    painter.fillRect(rect, ALLOWED)
                else:
                    painter.fillRect(rect, NOT_ALLOWED)
                    painter.fillRect(rect, hatch)
        bottom = header + len(DAYS) * self._row_height()
        for slot in range(SLOTS_PER_DAY + 1):  # a thin line each half hour, a wide one each hour
            x = self._cell_rect((0, min(slot, SLOTS_PER_DAY - 1))).left()
            if slot == SLOTS_PER_DAY:
                x = self._cell_rect((0, SLOTS_PER_DAY - 1)).right() + 1
            painter.setPen(QPen(LINE, 2 if slot % 2 == 0 else 1))
            painter.drawLine(x, header, x, bottom)
        painter.setPen(QPen(LINE, 2))
        for day in range(len(DAYS) + 1):
            y = header + day * self._row_height()
            right = self._cell_rect((0, SLOTS_PER_DAY - 1)).right()
            painter.drawLine(self._label_width(), y, right, y)
        if self.hasFocus():
            painter.setPen(QPen(CURSOR, 3))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(self._cell_rect(self._cursor).adjusted(1, 1, -1, -1))
        painter.end()

    # -- input -----------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's naming
        cell = self.cell_at(event.position().toPoint())
        if cell is None or event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self._cursor = cell
        value = not self._grid[cell]
        self._drag = (cell, value, self._grid)
        self._paint(self._grid.painted([cell], value))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's naming
        cell = self.cell_at(event.position().toPoint())
        if self._drag is None or cell is None:
            return
        anchor, value, before = self._drag
        self._cursor = cell
        self._paint(before.painted(block(anchor, cell), value))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's naming
        self._drag = None

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's naming
        key = Qt.Key(event.key())
        day, slot = self._cursor
        if key == Qt.Key.Key_Space:
            self._paint(self._grid.painted([self._cursor], not self._grid[self._cursor]))
            return
        if key in _STEP:
            step_day, step_slot = _STEP[key]
            moved = (
                min(max(day + step_day, 0), len(DAYS) - 1),
                min(max(slot + step_slot, 0), SLOTS_PER_DAY - 1),
            )
        elif key == Qt.Key.Key_Home:
            moved = (day, 0)
        elif key == Qt.Key.Key_End:
            moved = (day, SLOTS_PER_DAY - 1)
        else:
            super().keyPressEvent(event)
            return
        left = self._cursor
        self._cursor = moved
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self._paint(self._grid.painted(block(left, moved), self._grid[left]))
        else:
            self._announce()
            self.update()

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt's naming
        super().focusInEvent(event)
        self._announce()
        self.update()

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt's naming
        super().focusOutEvent(event)
        self.update()
