"""The Rules page's layout: one child's rules, with the agent's refusal beside what it names.

It shows a `RulesState` and gives back a `RulesForm` of its widgets as they stand; what they
mean, and whether they are right, is the controller's and the agent's business.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from abhaya.ui.console.controllers.rules import Place, RulesForm, RulesState
from abhaya.ui.console.policyedit import (
    ACTIONS,
    IMAGE_ACTIONS,
    ZERO_TOLERANCE,
    CategorySetting,
)
from abhaya.ui.console.schedulegrid import WeekGrid
from abhaya.ui.console.texts import Texts
from abhaya.ui.console.views.fields import wrapped_label
from abhaya.ui.console.views.schedulegrid import ALLOWED, HATCH, NOT_ALLOWED, WeekGridView

ERROR_STYLE = "color: #a4262c;"


def _combo(texts: Texts, choices: tuple[str, ...], same: str | None = None) -> QComboBox:
    """A choice among `choices`, shown in words; `same` adds a first "" choice ("as for all")."""
    combo = QComboBox()
    if same is not None:
        combo.addItem(same, "")
    for choice in choices:
        combo.addItem(texts(f"rules.choice_{choice}"), choice)
    return combo


def _choose(combo: QComboBox, value: str) -> None:
    combo.setCurrentIndex(max(0, combo.findData(value)))


class _CategoryRow:
    def __init__(self, texts: Texts, setting: CategorySetting, override: str) -> None:
        self.name = setting.name
        self.label = QLabel(texts.category(setting.name))
        self.action = _combo(texts, ACTIONS)
        self.ask_parent = QCheckBox(texts("rules.ask_parent"))
        self.allow_continue = QCheckBox(texts("rules.allow_continue"))
        self.override = _combo(texts, ACTIONS, texts("rules.same_for_all"))
        _choose(self.action, setting.action)
        self.ask_parent.setChecked(setting.ask_parent)
        self.allow_continue.setChecked(setting.allow_continue)
        _choose(self.override, override)
        if setting.name == ZERO_TOLERANCE:  # always blocked: shown, never offered
            for widget in (self.action, self.ask_parent, self.allow_continue, self.override):
                widget.setEnabled(False)
            self.label.setToolTip(texts("rules.always_blocked"))

    def widgets(self) -> tuple[QWidget, ...]:
        return (self.label, self.action, self.ask_parent, self.allow_continue, self.override)

    def setting(self) -> CategorySetting:
        return CategorySetting(
            self.name,
            str(self.action.currentData()),
            self.ask_parent.isChecked(),
            self.allow_continue.isChecked(),
        )


class _KeywordLists(QWidget):
    """One check box a `[[keywords]]` list: used for this child or not (csam: always)."""

    def __init__(self, texts: Texts) -> None:
        super().__init__()
        self._texts = texts
        self.boxes: dict[str, QCheckBox] = {}
        self._none = wrapped_label(texts("rulesgrid.no_lists"))
        self._was_off: tuple[str, ...] = ()
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(self._none)

    def show_lists(self, state: RulesState) -> None:
        for box in self.boxes.values():
            self._layout.removeWidget(box)
            box.deleteLater()
        self.boxes = {}
        for keyword_list in state.rules.keyword_lists:
            if keyword_list.category in self.boxes:
                continue  # two files of one category: one switch, as the policy has it
            box = QCheckBox(
                self._texts(
                    "rulesgrid.list_of",
                    category=self._texts.category(keyword_list.category),
                )
            )
            box.setToolTip(keyword_list.path)
            box.setChecked(keyword_list.category not in state.profile.lists_off)
            if keyword_list.category == ZERO_TOLERANCE:  # always used: shown, never offered
                box.setChecked(True)
                box.setEnabled(False)
                box.setToolTip(self._texts("rulesgrid.list_always"))
            self.boxes[keyword_list.category] = box
            self._layout.addWidget(box)
        self._none.setVisible(not self.boxes)
        # Lists turned off that the policy does not list (yet): not shown, and kept as written.
        self._was_off = state.profile.lists_off

    def lists_off(self) -> tuple[str, ...]:
        """The lists unticked, in the policy's order, then newly unticked ones."""
        off = {name for name, box in self.boxes.items() if not box.isChecked()}
        off |= {name for name in self._was_off if name not in self.boxes}
        kept = [name for name in self._was_off if name in off]
        return (*kept, *(name for name in self.boxes if name in off and name not in kept))


def _swatch(color: QColor, hatched: bool) -> QLabel:
    """A small square of the grid's colour and pattern, for the legend."""
    pixmap = QPixmap(18, 18)
    pixmap.fill(color)
    if hatched:
        painter = QPainter(pixmap)
        painter.fillRect(pixmap.rect(), QBrush(HATCH, Qt.BrushStyle.BDiagPattern))
        painter.end()
    label = QLabel()
    label.setPixmap(pixmap)
    return label


def _group(title: str, body: QWidget | None = None) -> tuple[QGroupBox, QVBoxLayout]:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    if body is not None:
        layout.addWidget(body)
    return box, layout


class RulesView(QWidget):
    profile_chosen = Signal(str)
    save_requested = Signal(object)
    """A RulesForm of the page as it stands."""
    reload_requested = Signal()

    def __init__(self, texts: Texts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._texts = texts
        self.profile = QComboBox()
        self.source = QLabel("")
        self.source.setWordWrap(True)
        self.save = QPushButton(texts("rules.save"))
        self.reload = QPushButton(texts("rules.reload"))
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.errors = {place: QLabel("") for place in Place}
        for label in self.errors.values():
            label.setWordWrap(True)
            label.setStyleSheet(ERROR_STYLE)
            label.hide()

        self._category_grid = QGridLayout()
        self._category_rows: list[_CategoryRow] = []
        self.allow = QPlainTextEdit()
        self.block = QPlainTextEdit()
        for edit in (self.allow, self.block):
            edit.setPlaceholderText(texts("rules.sites_hint"))
            edit.setTabChangesFocus(True)
            edit.setMaximumHeight(110)
        self.safe_search = QCheckBox(texts("rules.safe_search"))
        self.keyword_lists = _KeywordLists(texts)
        self.words = QPlainTextEdit()
        self.words.setPlaceholderText(texts("rulesgrid.words_hint"))
        self.words.setTabChangesFocus(True)
        self.words.setMaximumHeight(110)
        self.grid = WeekGridView(texts)
        self.grid_cell = wrapped_label()
        self.grid_zone = wrapped_label()
        self.grid_note = wrapped_label()
        self.allow_all = QPushButton(texts("rulesgrid.allow_all"))
        self.allow_none = QPushButton(texts("rulesgrid.allow_none"))
        self._grid_shown = True
        self.filled: RulesForm | None = None
        """The form as `show_state` filled it: what the parent's edits are measured from."""
        self.images_enabled = QCheckBox(texts("rules.images_enabled"))
        self.images_threshold = QDoubleSpinBox()
        self.images_threshold.setDecimals(3)  # as fine as a parent would write it
        self.images_threshold.setRange(0.0, 1.0)
        self.images_threshold.setSingleStep(0.05)
        self.images_threshold.setSpecialValueText(texts("rules.same_for_all"))
        self.images_action = _combo(texts, IMAGE_ACTIONS, texts("rules.same_for_all"))
        self.chat_enabled = QCheckBox(texts("rules.chat_enabled"))
        self.chat_grooming = QDoubleSpinBox()
        self.chat_grooming.setRange(0.0, 20.0)
        self.chat_grooming.setSingleStep(0.5)
        self.chat_grooming.setSpecialValueText(texts("rules.same_for_all"))

        headers = ("category", "for_all", "page_offers", "", "for_child")
        for column, key in enumerate(headers):
            if key:
                header = QLabel(f"<b>{texts(f'rules.{key}')}</b>")
                self._category_grid.addWidget(header, 0, column)
        top = QHBoxLayout()
        profile_label = QLabel(texts("rules.profile"))
        profile_label.setBuddy(self.profile)
        top.addWidget(profile_label)
        top.addWidget(self.profile)
        top.addStretch(1)
        top.addWidget(self.reload)
        top.addWidget(self.save)

        categories, layout = _group(texts("rules.categories"))
        layout.addWidget(QLabel(texts("rules.categories_hint")))
        layout.addWidget(self.errors[Place.CATEGORIES])
        layout.addLayout(self._category_grid)
        sites, layout = _group(texts("rules.sites"))
        sites_form = QFormLayout()
        sites_form.addRow(texts("rules.allow"), self.allow)
        sites_form.addRow("", self.errors[Place.ALLOW])
        sites_form.addRow(texts("rules.block"), self.block)
        sites_form.addRow("", self.errors[Place.BLOCK])
        layout.addLayout(sites_form)
        layout.addWidget(self.errors[Place.SAFE_SEARCH])
        layout.addWidget(self.safe_search)
        keywords, layout = _group(texts("rulesgrid.keywords"))
        layout.addWidget(wrapped_label(texts("rulesgrid.keywords_hint")))
        layout.addWidget(self.keyword_lists)
        words_label = QLabel(texts("rulesgrid.words"))
        words_label.setBuddy(self.words)
        layout.addWidget(words_label)
        layout.addWidget(self.words)
        layout.addWidget(self.errors[Place.KEYWORDS])
        schedule, layout = _group(texts("rulesgrid.schedule"))
        layout.addWidget(wrapped_label(texts("rulesgrid.schedule_hint")))
        layout.addWidget(self.grid_zone)
        legend = QHBoxLayout()
        legend.addWidget(_swatch(ALLOWED, False))
        legend.addWidget(QLabel(texts("rulesgrid.allowed")))
        legend.addSpacing(16)
        legend.addWidget(_swatch(NOT_ALLOWED, True))
        legend.addWidget(QLabel(texts("rulesgrid.not_allowed")))
        legend.addStretch(1)
        legend.addWidget(self.allow_all)
        legend.addWidget(self.allow_none)
        layout.addLayout(legend)
        layout.addWidget(self.errors[Place.SCHEDULE])
        layout.addWidget(self.grid_note)
        layout.addWidget(self.grid)
        layout.addWidget(self.grid_cell)
        checks, layout = _group(texts("rules.checks"))
        checks_form = QFormLayout()
        checks_form.addRow(self.images_enabled)
        checks_form.addRow(texts("rules.images_threshold"), self.images_threshold)
        checks_form.addRow(texts("rules.images_action"), self.images_action)
        checks_form.addRow("", self.errors[Place.IMAGES])
        checks_form.addRow(self.chat_enabled)
        checks_form.addRow(texts("rules.chat_grooming"), self.chat_grooming)
        checks_form.addRow("", self.errors[Place.CHAT])
        layout.addLayout(checks_form)

        body = QWidget()
        body_layout = QVBoxLayout(body)
        self.keywords_box, self.schedule_box = keywords, schedule
        for box in (categories, sites, keywords, schedule, checks):
            body_layout.addWidget(box)
        body_layout.addStretch(1)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setWidget(body)
        page = QVBoxLayout(self)
        page.addLayout(top)
        page.addWidget(self.source)
        page.addWidget(self.errors[Place.TOP])
        page.addWidget(self.message)
        page.addWidget(self.scroll_area, 1)

        self.profile.activated.connect(
            lambda index: self.profile_chosen.emit(str(self.profile.itemData(index)))
        )
        self.save.clicked.connect(lambda: self.save_requested.emit(self.form()))
        self.reload.clicked.connect(self.reload_requested.emit)
        self.grid.cursor_moved.connect(self.grid_cell.setText)
        self.allow_all.clicked.connect(lambda: self._fill_grid(True))
        self.allow_none.clicked.connect(lambda: self._fill_grid(False))
        self.save.setEnabled(False)

    def show_state(self, state: RulesState) -> None:
        self.profile.clear()
        for profile in state.rules.profiles:
            self.profile.addItem(profile.name, profile.name)
        _choose(self.profile, state.profile.name)
        words = "rules.source" if state.editable else "rules.not_editable"
        self.source.setText(self._texts(words, source=state.source))
        self.save.setEnabled(state.editable)

        for row in self._category_rows:
            for widget in row.widgets():
                self._category_grid.removeWidget(widget)
                widget.deleteLater()
        self._category_rows = []
        profile = state.profile
        for number, setting in enumerate(state.rules.categories, start=1):
            row = _CategoryRow(self._texts, setting, profile.overrides.get(setting.name, ""))
            self._category_rows.append(row)
            for column, widget in enumerate(row.widgets()):
                self._category_grid.addWidget(widget, number, column)

        self.allow.setPlainText("\n".join(profile.allow))
        self.block.setPlainText("\n".join(profile.block))
        self.safe_search.setChecked(profile.safe_search)
        self.keyword_lists.show_lists(state)
        self.words.setPlainText("\n".join(profile.words))
        self.grid_zone.setText(self._texts("rulesgrid.zone", zone=state.rules.timezone))
        self._grid_shown = state.schedule is not None
        self.grid.setEnabled(self._grid_shown)
        self.allow_all.setEnabled(self._grid_shown)
        self.allow_none.setEnabled(self._grid_shown)
        if state.schedule is None:
            self.grid.set_grid(WeekGrid.filled(False))
            self.grid_note.setText(
                self._texts("rulesgrid.unreadable", problem=state.schedule_problem)
            )
        else:
            self.grid.set_grid(state.schedule.grid)
            self.grid_note.setText("" if state.schedule.exact else self._texts("rulesgrid.rounded"))
        self.grid_note.setVisible(bool(self.grid_note.text()))
        self.images_enabled.setChecked(profile.images_enabled)
        self.images_threshold.setValue(profile.images_threshold or 0.0)
        _choose(self.images_action, profile.images_action or "")
        self.chat_enabled.setChecked(profile.chat_enabled)
        self.chat_grooming.setValue(profile.chat_grooming_alert or 0.0)
        self.filled = self.form()

    def show_profile(self, name: str) -> None:
        """Put the chooser back on the child shown (the parent chose another, then stayed)."""
        _choose(self.profile, name)

    def scroll_to(self, box: QWidget) -> None:
        """Scroll the page so that `box` (one of its parts) starts at the top."""
        self.scroll_area.verticalScrollBar().setValue(box.y())

    def _fill_grid(self, allowed: bool) -> None:
        self.grid.set_grid(WeekGrid.filled(allowed))
        self.grid.setFocus(Qt.FocusReason.OtherFocusReason)

    def form(self) -> RulesForm:
        overrides = {
            row.name: str(row.override.currentData())
            for row in self._category_rows
            if row.override.currentData()
        }
        return RulesForm(
            categories=tuple(row.setting() for row in self._category_rows),
            overrides=overrides,
            safe_search=self.safe_search.isChecked(),
            allow_text=self.allow.toPlainText(),
            block_text=self.block.toPlainText(),
            schedule=self.grid.grid() if self._grid_shown else None,
            words_text=self.words.toPlainText(),
            lists_off=self.keyword_lists.lists_off(),
            images_enabled=self.images_enabled.isChecked(),
            images_threshold=self.images_threshold.value(),
            images_action=str(self.images_action.currentData()),
            chat_enabled=self.chat_enabled.isChecked(),
            chat_grooming_alert=self.chat_grooming.value(),
        )

    def show_refusal(self, places: dict[Place, str]) -> None:
        for place, label in self.errors.items():
            label.setText(places.get(place, ""))
            label.setVisible(place in places)
        placed = [self.errors[place] for place in Place if place in places and place != Place.TOP]
        if placed:  # the first part named is scrolled into view once the page is laid out
            QTimer.singleShot(0, lambda: self.scroll_area.ensureWidgetVisible(placed[0], 50, 120))

    def tell(self, text: str) -> None:
        self.message.setText(text)
