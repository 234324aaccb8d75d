"""The Rules page's layout: one child's rules, with the agent's refusal beside what it names.

It shows a `RulesState` and gives back a `RulesForm` of its widgets as they stand; what they
mean, and whether they are right, is the controller's and the agent's business.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from abhaya.ui.console.controllers.rules import Place, RulesForm, RulesState, WindowForm
from abhaya.ui.console.policyedit import (
    ACTIONS,
    DAYS,
    IMAGE_ACTIONS,
    ZERO_TOLERANCE,
    CategorySetting,
    Window,
)
from abhaya.ui.console.texts import Texts

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


class _WindowRow(QWidget):
    removed = Signal(object)

    def __init__(self, texts: Texts, window: Window) -> None:
        super().__init__()
        self.days = {day: QCheckBox(texts(f"rules.day_{day}")) for day in DAYS}
        self.start = QLineEdit(window.start)
        self.end = QLineEdit(window.end)
        for edit in (self.start, self.end):
            edit.setPlaceholderText("HH:MM")
            edit.setMaximumWidth(80)
        self.remove = QPushButton(texts("rules.remove_window"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for day, box in self.days.items():
            box.setChecked(day in window.days)
            layout.addWidget(box)
        layout.addWidget(QLabel(texts("rules.from")))
        layout.addWidget(self.start)
        layout.addWidget(QLabel(texts("rules.to")))
        layout.addWidget(self.end)
        layout.addWidget(self.remove)
        layout.addStretch(1)
        self.remove.clicked.connect(lambda: self.removed.emit(self))

    def form(self) -> WindowForm:
        days = tuple(day for day, box in self.days.items() if box.isChecked())
        return WindowForm(days, self.start.text(), self.end.text())


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
        self._windows_layout = QVBoxLayout()
        self.windows: list[_WindowRow] = []
        self.add_window = QPushButton(texts("rules.add_window"))
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
        schedule, layout = _group(texts("rules.schedule"))
        layout.addWidget(QLabel(texts("rules.schedule_hint")))
        layout.addWidget(self.errors[Place.SCHEDULE])
        layout.addLayout(self._windows_layout)
        layout.addWidget(self.add_window)
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
        for box in (categories, sites, schedule, checks):
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
        self.add_window.clicked.connect(lambda: self._add_window(Window(("mon",), "", "")))
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
        for window in list(self.windows):
            self._remove_window(window)
        for window_setting in profile.schedule:
            self._add_window(window_setting)
        self.images_enabled.setChecked(profile.images_enabled)
        self.images_threshold.setValue(profile.images_threshold or 0.0)
        _choose(self.images_action, profile.images_action or "")
        self.chat_enabled.setChecked(profile.chat_enabled)
        self.chat_grooming.setValue(profile.chat_grooming_alert or 0.0)

    def _add_window(self, window: Window) -> None:
        row = _WindowRow(self._texts, window)
        row.removed.connect(self._remove_window)
        self.windows.append(row)
        self._windows_layout.addWidget(row)

    def _remove_window(self, row: object) -> None:
        assert isinstance(row, _WindowRow)
        self.windows.remove(row)
        self._windows_layout.removeWidget(row)
        row.deleteLater()

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
            schedule=tuple(row.form() for row in self.windows),
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
