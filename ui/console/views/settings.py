"""The Settings page's layout: the PIN change, the retention (days to edit), where secure sites
are looked inside (views/securesites.py), the language, About."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from abhaya.ui.console import about
from abhaya.ui.console.controllers.settings import MAX_RETENTION_DAYS, Retention
from abhaya.ui.console.texts import Texts
from abhaya.ui.console.views.fields import pin_field, wrapped_label
from abhaya.ui.console.views.securesites import SecureSitesBox


class SettingsView(QWidget):
    change_pin = Signal(str, str, str)
    """(current PIN, new PIN, new PIN again)."""
    save_retention = Signal(int, int)
    """(days events are kept, days alerts are kept)."""
    language_chosen = Signal(str)
    setup_child = Signal()
    """The parent asks for the first-start walk-through again ("Set up a child")."""

    def __init__(self, texts: Texts, language: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.old_pin, self.new_pin, self.again_pin = pin_field(), pin_field(), pin_field()
        self.change = QPushButton(texts("settings.change_pin"))
        self.pin_message = wrapped_label()
        pin_box = QGroupBox(texts("settings.pin_box"))
        pin_form = QFormLayout(pin_box)
        pin_form.addRow(texts("settings.old_pin"), self.old_pin)
        pin_form.addRow(texts("settings.new_pin"), self.new_pin)
        pin_form.addRow(texts("settings.again_pin"), self.again_pin)
        pin_form.addRow(self.change)
        pin_form.addRow(self.pin_message)

        self.retention = wrapped_label(texts("dashboard.loading"))
        self.retention_note = wrapped_label()
        retention_box = QGroupBox(texts("settings.retention_box"))
        retention_layout = QVBoxLayout(retention_box)
        retention_layout.addWidget(self.retention)
        retention_layout.addWidget(self.retention_note)
        self.retention_days, self.alert_days = _days_field(texts), _days_field(texts)
        days_form = QFormLayout()
        days_form.addRow(texts("retention.days"), self.retention_days)
        days_form.addRow(texts("retention.alert_days"), self.alert_days)
        retention_layout.addLayout(days_form)
        retention_layout.addWidget(wrapped_label(texts("retention.shorter")))
        self.save_days = QPushButton(texts("retention.save"))
        self.save_days.setEnabled(False)
        self.retention_message = wrapped_label()
        retention_layout.addWidget(self.save_days)
        retention_layout.addWidget(self.retention_message)
        self.save_days.clicked.connect(
            lambda: self.save_retention.emit(self.retention_days.value(), self.alert_days.value())
        )

        self.secure_sites = SecureSitesBox(texts)

        self.language = QComboBox()
        self.language.addItem(texts("settings.english"), "en")
        self.language.addItem(texts("settings.hindi"), "hi")
        self.language.setCurrentIndex(max(0, self.language.findData(language)))
        self.language_message = wrapped_label()
        language_box = QGroupBox(texts("settings.language_box"))
        language_form = QFormLayout(language_box)
        language_form.addRow(texts("settings.language"), self.language)
        language_form.addRow(self.language_message)

        self.setup_button = QPushButton(texts("walkthrough.setup_child"))
        self.setup_message = wrapped_label()
        setup_box = QGroupBox(texts("walkthrough.setup_box"))
        setup_layout = QVBoxLayout(setup_box)
        setup_layout.addWidget(wrapped_label(texts("walkthrough.setup_hint")))
        setup_layout.addWidget(self.setup_button)
        setup_layout.addWidget(self.setup_message)
        self.setup_button.clicked.connect(self.setup_child.emit)

        lines = [
            texts("settings.version", version=about.version()),
            texts("settings.licences"),
            f"• {texts('settings.project')}: {about.PROJECT_LICENCE}",
            f"• {texts('settings.qt')} {about.pyside_version()}: {about.QT_LICENCE}",
        ]
        lines += [
            f"• {texts('settings.model', name=item.name)}: {item.licence}"
            for item in about.model_licences()
        ]
        self.about = wrapped_label("\n".join(lines))
        self.about.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        about_box = QGroupBox(texts("settings.about_box"))
        QVBoxLayout(about_box).addWidget(self.about)

        content = QWidget()
        column = QVBoxLayout(content)
        boxes = (setup_box, pin_box, retention_box, self.secure_sites, language_box, about_box)
        for box in boxes:
            column.addWidget(box)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        QVBoxLayout(self).addWidget(scroll)

        self.change.clicked.connect(self._change)
        self.again_pin.returnPressed.connect(self._change)
        self.language.activated.connect(
            lambda index: self.language_chosen.emit(self.language.itemData(index))
        )

    def _change(self) -> None:
        self.change_pin.emit(self.old_pin.text(), self.new_pin.text(), self.again_pin.text())

    def show_pin_message(self, text: str, changed: bool) -> None:
        self.pin_message.setText(text)
        if changed:
            for field in (self.old_pin, self.new_pin, self.again_pin):
                field.clear()

    def show_retention(self, retention: Retention) -> None:
        self.retention.setText(retention.text)
        self.retention_note.setText(retention.note)
        if retention.days is not None and retention.alert_days is not None:
            self.retention_days.setValue(retention.days)
            self.alert_days.setValue(retention.alert_days)
        editable = retention.editable and retention.days is not None
        for widget in (self.retention_days, self.alert_days, self.save_days):
            widget.setEnabled(editable)


def _days_field(texts: Texts) -> QSpinBox:
    """A number of days, typed or stepped with the arrow keys, within the agent's limits."""
    field = QSpinBox()
    field.setRange(1, MAX_RETENTION_DAYS)
    field.setSuffix(texts("retention.days_suffix"))
    field.setEnabled(False)
    return field
