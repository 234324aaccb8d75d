"""The Settings page's logic: change the PIN, read and change the retention, save the language.

The PIN change is a sign-in call in the runner's sense (`session=False`): the agent answers a
wrong current PIN with 401, which must be said next to the field, not taken as the end of the
session.  Retention is the policy's `[events]` days: read from the policy the agent runs, and
saved into it like the Rules page's edits (`policysave.save_edit`, which keeps the file's
comments); the agent checks the days and its refusal is said beside them.  The
language is this console's own preference (settings.py): once saved, `language_changed` asks
the host (host.py) to rebuild the window in it at once, since every page is built with its
words.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import Signal

from abhaya.client import contract
from abhaya.client.api import ClientError
from abhaya.filters.policy.load import PolicyError, parse_policy
from abhaya.filters.policy.model import EventSettings
from abhaya.ui.console.controllers.base import Controller
from abhaya.ui.console.controllers.policysave import (
    SaveOutcome,
    outcome_words,
    refusal_words,
    save_edit,
)
from abhaya.ui.console.controllers.session import SessionController, is_pin
from abhaya.ui.console.policyedit import write_retention
from abhaya.ui.console.runner import Runner
from abhaya.ui.console.service import ConsoleService
from abhaya.ui.console.settings import load_settings, save_settings
from abhaya.ui.console.texts import Texts

MAX_RETENTION_DAYS = EventSettings.MAX_RETENTION_DAYS
"""The most days the page's fields offer: the agent's own limit (at least one day)."""


@dataclass(frozen=True, slots=True)
class Retention:
    text: str
    note: str
    days: int | None = None
    """Days events are kept; None when the policy could not be read (nothing to edit)."""
    alert_days: int | None = None
    editable: bool = False
    """False on the agent's embedded default policy: the page offers no Save."""


def retention_of(policy: contract.PolicyText, texts: Texts) -> Retention:
    """The policy's `[events]` retention in words (its defaults when the file leaves them out)."""
    try:
        events = parse_policy(policy["text"], policy["source"]).events
    except PolicyError as error:
        return Retention(texts("settings.retention_unknown", message=str(error)), "")
    note = (
        texts("settings.retention_note", source=policy["source"])
        if policy["editable"]
        else texts("retention.not_editable")
    )
    return Retention(
        texts(
            "settings.retention",
            days=events.retention_days,
            alert_days=events.alert_retention_days,
        ),
        note,
        events.retention_days,
        events.alert_retention_days,
        policy["editable"],
    )


class SettingsController(Controller):
    pin_told = Signal(str, bool)
    """(words, whether the PIN was changed)."""
    retention = Signal(object)
    """A Retention."""
    retention_told = Signal(str)
    """Words beside the day fields: a save's end, or the agent's refusal."""
    language_told = Signal(str)
    language_changed = Signal(str)
    """A new language was saved: the console is to be rebuilt in it (host.ConsoleHost)."""

    def __init__(
        self,
        service: ConsoleService,
        runner: Runner,
        texts: Texts,
        session: SessionController,
        settings_path: Path,
    ) -> None:
        super().__init__(service, runner, texts)
        self._session = session
        self.settings_path = settings_path

    def saved_language(self) -> str:
        return load_settings(self.settings_path).language

    def change_pin(self, old: str, new: str, again: str) -> None:
        if not (is_pin(old) and is_pin(new)):
            self.pin_told.emit(self._texts("signin.pin_rule"), False)
            return
        if new != again:
            self.pin_told.emit(self._texts("signin.mismatch"), False)
            return
        self.pin_told.emit(self._texts("signin.checking"), False)
        self._runner.submit(
            lambda: self._service.change_pin(old, new),
            lambda _: self.pin_told.emit(self._texts("settings.pin_changed"), True),
            self._pin_refused,
            session=False,
        )

    def _pin_refused(self, error: ClientError) -> None:
        if error.status == 401:
            self.pin_told.emit(self._texts("settings.wrong_old"), False)
        else:
            self.pin_told.emit(self._session.refusal(error), False)

    def refresh(self) -> None:
        self._runner.submit(
            self._service.policy,
            lambda policy: self.retention.emit(retention_of(policy, self._texts)),
            lambda error: self.retention.emit(
                Retention(self._texts("settings.retention_unknown", message=str(error)), "")
            ),
        )

    def save_retention(self, days: int, alert_days: int) -> None:
        """Write the days into the policy in force and apply it; the agent checks the range."""
        self.retention_told.emit(self._texts("retention.saving"))
        self._runner.submit(
            lambda: save_edit(
                self._service,
                lambda text: write_retention(text, days, alert_days),
                self._texts("retention.not_editable"),
            ),
            lambda outcome: self._retention_saved(outcome, days, alert_days),
            self._retention_refused,
        )

    def _retention_saved(self, outcome: SaveOutcome, days: int, alert_days: int) -> None:
        saved = self._texts("retention.saved", days=days, alert_days=alert_days)
        self.retention_told.emit(outcome_words(outcome, saved, self._texts("retention.unchanged")))
        if outcome.applied is not None:
            self.refresh()

    def _retention_refused(self, error: ClientError) -> None:
        self.retention_told.emit(
            refusal_words(error, self._texts, "retention.not_editable", "retention.refused")
        )

    def set_language(self, language: str) -> None:
        try:
            saved = load_settings(self.settings_path)
            save_settings(self.settings_path, replace(saved, language=language))
        except (OSError, ValueError) as error:
            reason = error.strerror if isinstance(error, OSError) else str(error)
            self.language_told.emit(self._texts("settings.language_not_saved", reason=reason))
            return
        if language != self._texts.language:
            self.language_changed.emit(language)
        else:
            self.say_language_saved()

    def say_language_saved(self) -> None:
        """Tell the parent (in the console's language) that it is now the one saved."""
        name = self._texts("settings.english" if self._texts.language == "en" else "settings.hindi")
        self.language_told.emit(self._texts("settings.language_saved", language=name))
