"""The Settings page's "Secure sites" box: the two choices of `[inspect] mode`, Save, coverage."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QGroupBox, QPushButton, QRadioButton, QVBoxLayout

from abhaya.filters.policy.model import InspectMode
from abhaya.ui.console.controllers.securesites import InspectChoice
from abhaya.ui.console.texts import Texts
from abhaya.ui.console.views.fields import wrapped_label


class SecureSitesBox(QGroupBox):
    save = Signal(str)
    """The mode chosen ("needed" or "everything")."""

    def __init__(self, texts: Texts) -> None:
        super().__init__(texts("inspect.box"))
        self.current = wrapped_label(texts("dashboard.loading"))
        self.note = wrapped_label()
        self.choices = {mode: QRadioButton(texts(f"inspect.{mode}")) for mode in InspectMode}
        self._group = QButtonGroup(self)
        self.save_button = QPushButton(texts("inspect.save"))
        self.message = wrapped_label()
        self.coverage = wrapped_label()
        layout = QVBoxLayout(self)
        layout.addWidget(wrapped_label(texts("inspect.intro")))
        layout.addWidget(self.current)
        for button in self.choices.values():
            self._group.addButton(button)
            button.setEnabled(False)
            layout.addWidget(button)
        layout.addWidget(wrapped_label(texts("inspect.needed_misses")))
        layout.addWidget(self.note)
        self.save_button.setEnabled(False)
        layout.addWidget(self.save_button)
        layout.addWidget(self.message)
        layout.addWidget(self.coverage)
        self.save_button.clicked.connect(self._save)

    def chosen(self) -> InspectMode | None:
        return next((mode for mode, button in self.choices.items() if button.isChecked()), None)

    def choose(self, mode: InspectMode) -> None:
        self.choices[mode].setChecked(True)

    def _save(self) -> None:
        mode = self.chosen()
        if mode is not None:
            self.save.emit(str(mode))

    def show_choice(self, choice: InspectChoice) -> None:
        """The choice in force; with no choice known, neither is ticked and nothing is offered."""
        self.current.setText(choice.text)
        self.note.setText(choice.note)
        self._group.setExclusive(False)  # so both can be unticked when the choice is not known
        for mode, button in self.choices.items():
            button.setChecked(mode == choice.mode)
            button.setEnabled(choice.editable and choice.mode is not None)
        self._group.setExclusive(True)
        self.save_button.setEnabled(choice.editable and choice.mode is not None)
