"""The walk-through's layout: a welcome, one form per child, and the computer's checks.

A dialog with a stack of three steps rather than a QWizard: the middle step grows a form per
child ("Add another child") and a refusal sends the parent back to it, which a wizard's fixed
pages do not fit.  Every field has a mnemonic and the buttons are in reading order, so the
whole walk-through is done from the keyboard.  No logic: the controller decides and words.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from abhaya.ui.console.childsetup import LANGUAGES, ChildInput, Field
from abhaya.ui.console.controllers.walkthrough import CheckLine, Shown, WalkthroughStart
from abhaya.ui.console.texts import Texts
from abhaya.ui.console.views.fields import wrapped_label

DEFAULT_SIZE = (760, 620)


def _problem_label() -> QLabel:
    label = wrapped_label()
    label.setObjectName("message")
    label.setStyleSheet("color: #a4001d;")
    label.hide()
    return label


class ChildForm(QGroupBox):
    """One child's fields, each with the place for the words of its refusal under it."""

    remove = Signal(object)

    def __init__(self, texts: Texts, start: WalkthroughStart, number: int) -> None:
        super().__init__(texts("walkthrough.child_box", number=number))
        self.name = QLineEdit()
        self.band = QComboBox()
        for choice in start.bands:
            self.band.addItem(choice.label, choice.id)
        self._summaries = {choice.id: choice.summary for choice in start.bands}
        self.summary = wrapped_label()
        self.language = QComboBox()
        for language in LANGUAGES:
            self.language.addItem(texts(f"walkthrough.{_LANGUAGE_KEYS[language]}"), language)
        self.language.setCurrentIndex(self.language.findData(texts.language))
        self.account = QComboBox()
        self.account.addItem(texts("walkthrough.account_later"), "")
        for account in start.accounts:
            self.account.addItem(account, account)
        self.problems = {field: _problem_label() for field in Field}
        form = QFormLayout(self)
        form.addRow(texts("walkthrough.name"), self.name)
        form.addRow(self.problems[Field.NAME])
        form.addRow(texts("walkthrough.band"), self.band)
        form.addRow(self.summary)
        form.addRow(self.problems[Field.BAND])
        form.addRow(texts("walkthrough.language"), self.language)
        form.addRow(self.problems[Field.LANGUAGE])
        form.addRow(texts("walkthrough.account"), self.account)
        form.addRow(wrapped_label(texts("walkthrough.account_hint")))
        form.addRow(self.problems[Field.ACCOUNT])
        self.remove_button = QPushButton(texts("walkthrough.remove_child"))
        form.addRow(_row(self.remove_button))
        self.remove_button.clicked.connect(lambda: self.remove.emit(self))
        self.band.currentIndexChanged.connect(self._show_summary)
        self._show_summary()

    def _show_summary(self) -> None:
        self.summary.setText(self._summaries.get(self.band.currentData(), ""))

    def value(self) -> ChildInput:
        return ChildInput(
            self.name.text(),
            self.band.currentData(),
            self.language.currentData(),
            self.account.currentData(),
        )

    def show_problems(self, problems: Mapping[Field, str]) -> None:
        for field, label in self.problems.items():
            label.setText(problems.get(field, ""))
            label.setVisible(field in problems)


_LANGUAGE_KEYS = {"en": "english", "hi": "hindi"}


class WalkthroughDialog(QDialog):
    skipped = Signal()
    finished_children = Signal(object)
    """A list of ChildInput, one per form."""
    check_again = Signal()

    def __init__(self, texts: Texts, start: WalkthroughStart, parent: QWidget | None = None):
        super().__init__(parent)
        self._texts = texts
        self._start = start
        self.setWindowTitle(texts("walkthrough.title"))
        self.steps = QStackedWidget()

        self.intro = QWidget()
        intro = QVBoxLayout(self.intro)
        heading = QLabel(texts("walkthrough.intro_title"))
        heading.setStyleSheet("font-size: 16pt; font-weight: bold;")
        intro.addWidget(heading)
        intro.addWidget(wrapped_label(texts("walkthrough.intro")))
        intro.addWidget(wrapped_label(texts("walkthrough.skip_hint")))
        intro.addStretch(1)
        self.start_button = QPushButton(texts("walkthrough.start"))
        self.skip_button = QPushButton(texts("walkthrough.skip"))
        intro.addLayout(_row(self.skip_button, self.start_button))

        self.children_step = QWidget()
        column = QVBoxLayout(self.children_step)
        column.addWidget(_heading(texts("walkthrough.children_title")))
        column.addWidget(wrapped_label(texts("walkthrough.children_hint")))
        self.top_message = _problem_label()
        column.addWidget(self.top_message)
        self.forms_box = QWidget()
        self.forms_layout = QVBoxLayout(self.forms_box)
        self.forms_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.forms_box)
        column.addWidget(scroll, 1)
        self.status = wrapped_label()
        column.addWidget(self.status)
        self.add_button = QPushButton(texts("walkthrough.add_child"))
        self.back_button = QPushButton(texts("walkthrough.back"))
        self.save_button = QPushButton(texts("walkthrough.save"))
        self.save_button.setEnabled(start.editable)
        column.addLayout(_row(self.back_button, self.add_button, self.save_button))
        self.forms: list[ChildForm] = []
        self.add_child()
        if not start.editable:
            self.show_refusal(Shown({}, texts("rules.not_editable")))

        self.check_step = QWidget()
        checks = QVBoxLayout(self.check_step)
        checks.addWidget(_heading(texts("walkthrough.check_title")))
        checks.addWidget(wrapped_label(texts("walkthrough.check_hint")))
        self.results = wrapped_label(texts("walkthrough.checking"))
        self.results.setAlignment(Qt.AlignmentFlag.AlignTop)
        results = QScrollArea()
        results.setWidgetResizable(True)
        results.setFrameShape(QScrollArea.Shape.NoFrame)
        results.setWidget(self.results)
        checks.addWidget(results, 1)
        self.again_button = QPushButton(texts("walkthrough.check_again"))
        self.finish_button = QPushButton(texts("walkthrough.finish"))
        checks.addLayout(_row(self.again_button, self.finish_button))

        for step in (self.intro, self.children_step, self.check_step):
            self.steps.addWidget(step)
        QVBoxLayout(self).addWidget(self.steps)
        self.resize(*DEFAULT_SIZE)

        self.start_button.clicked.connect(self.show_children)
        self.skip_button.clicked.connect(self._skip)
        self.back_button.clicked.connect(lambda: self.steps.setCurrentWidget(self.intro))
        self.add_button.clicked.connect(self.add_child)
        self.save_button.clicked.connect(self._save)
        self.again_button.clicked.connect(self._again)
        self.finish_button.clicked.connect(self.accept)
        self.start_button.setDefault(True)
        self.start_button.setFocus()

    def show_children(self) -> None:
        self.steps.setCurrentWidget(self.children_step)
        self.save_button.setDefault(True)
        self.forms[0].name.setFocus()

    def add_child(self) -> None:
        form = ChildForm(self._texts, self._start, len(self.forms) + 1)
        form.remove.connect(self._remove)
        self.forms.append(form)
        self.forms_layout.insertWidget(self.forms_layout.count() - 1, form)
        form.show()  # at once: a layout shows a child of a visible parent only later
        self._number_forms()
        form.name.setFocus()

    def _remove(self, form: ChildForm) -> None:
        self.forms.remove(form)
        form.deleteLater()
        self._number_forms()
        self.forms[-1].name.setFocus()

    def _number_forms(self) -> None:
        for number, form in enumerate(self.forms, start=1):
            form.setTitle(self._texts("walkthrough.child_box", number=number))
            form.remove_button.setVisible(len(self.forms) > 1)

    def _skip(self) -> None:
        self.skipped.emit()
        self.reject()

    def _save(self) -> None:
        self.finished_children.emit([form.value() for form in self.forms])

    def _again(self) -> None:
        self.results.setText(self._texts("walkthrough.checking"))
        self.check_again.emit()

    def tell(self, text: str) -> None:
        self.status.setText(text)

    def show_refusal(self, shown: Shown) -> None:
        self.top_message.setText(shown.top)
        self.top_message.setVisible(bool(shown.top))
        for number, form in enumerate(self.forms):
            form.show_problems(shown.fields.get(number, {}))
        for number in sorted(shown.fields):
            field = next(iter(shown.fields[number]))
            widget = {
                Field.NAME: self.forms[number].name,
                Field.BAND: self.forms[number].band,
                Field.LANGUAGE: self.forms[number].language,
                Field.ACCOUNT: self.forms[number].account,
            }[field]
            widget.setFocus()
            break

    def show_check(self) -> None:
        self.steps.setCurrentWidget(self.check_step)
        self.finish_button.setDefault(True)
        self.finish_button.setFocus()

    def show_results(self, lines: tuple[CheckLine, ...]) -> None:
        states = {True: "state_ok", False: "state_problem", None: "state_unknown"}
        paragraphs = []
        for line in lines:
            text = f"{self._texts('walkthrough.' + states[line.ok])}: {line.text}"
            if line.fix and line.ok is not True:
                advice = "walkthrough.fix" if line.ok is False else "walkthrough.todo"
                text += "\n    " + self._texts(advice, fix=line.fix)
            paragraphs.append(text)
        self.results.setText("\n\n".join(paragraphs))


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("font-size: 14pt; font-weight: bold;")
    return label


def _row(*buttons: QPushButton) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addStretch(1)
    for button in buttons:
        row.addWidget(button)
    return row
