"""The week grid widget with the real mouse and keyboard paths (pytest-qt, offscreen)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

from abhaya.ui.console.schedulegrid import SLOTS_PER_DAY, WeekGrid
from abhaya.ui.console.texts import Texts
from abhaya.ui.console.views.schedulegrid import WeekGridView


def _grid(qtbot: QtBot, language: str = "en") -> WeekGridView:
    view = WeekGridView(Texts(language))
    qtbot.addWidget(view)
    view.resize(view.sizeHint())
    view.show()
    view.setFocus()
    return view


def test_the_keyboard_moves_switches_and_paints(qtbot: QtBot) -> None:
    view = _grid(qtbot)
    painted: list[WeekGrid] = []
    view.changed.connect(painted.append)
    qtbot.keyClick(view, Qt.Key.Key_Left)  # at the edge: stays
    qtbot.keyClick(view, Qt.Key.Key_Up)
    assert view.cursor_cell() == (0, 0) and not painted
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert not view.grid()[(0, 0)] and len(painted) == 1
    for _ in range(3):  # Shift and an arrow carry the half hour left's choice along
        qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert [view.grid()[(0, slot)] for slot in range(5)] == [False, False, False, False, True]
    qtbot.keyClick(view, Qt.Key.Key_End)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.cursor_cell() == (0, SLOTS_PER_DAY - 1)
    qtbot.keyClick(view, Qt.Key.Key_Home)
    qtbot.keyClick(view, Qt.Key.Key_Space)  # back to allowed
    assert view.grid()[(0, 0)]
    assert view.accessibleDescription() == "Monday 00:00 to 00:30: Internet allowed"


def test_a_drag_paints_the_rectangle_in_any_direction_with_the_first_cells_choice(
    qtbot: QtBot,
) -> None:
    view = _grid(qtbot)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=view.cell_center((4, 40)))
    qtbot.mouseMove(view, view.cell_center((2, 38)))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=view.cell_center((2, 38)))
    blocked = {(d, s) for d in range(7) for s in range(SLOTS_PER_DAY) if not view.grid()[(d, s)]}
    assert blocked == {(d, s) for d in (2, 3, 4) for s in (38, 39, 40)}
    # a press on a blocked half hour allows it again; moving without a press paints nothing
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=view.cell_center((3, 39)))
    qtbot.mouseMove(view, view.cell_center((0, 0)))
    assert view.grid()[(3, 39)] and view.grid()[(0, 0)] and not view.grid()[(3, 38)]


def test_a_shown_grid_is_not_a_paint_and_clicks_outside_the_cells_do_nothing(
    qtbot: QtBot,
) -> None:
    view = _grid(qtbot, "hi")
    painted: list[WeekGrid] = []
    view.changed.connect(painted.append)
    view.set_grid(WeekGrid.filled(False))
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(2, 2))  # a day name
    assert view.grid().never and not painted
    assert view.cell_at(view.cell_center((6, 47))) == (6, 47)
    assert view.describe((6, 47)) == "रविवार 23:30 से 24:00: अनुमति नहीं"
