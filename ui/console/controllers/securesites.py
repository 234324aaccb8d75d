"""The Settings page's "Secure sites": where HTTPS is looked inside, and how much was.

The choice is the policy's `[inspect] mode`, for every child: `needed` looks inside a secure
site only where a check must read it (faster browsing), `everything` inside every one (a
school that must check the images of every site).  It is read with the agent's own policy
reader (`parse_policy`), so a policy without `[inspect]` shows the reader's default, and saved
like the retention days (`policysave.save_edit`, which keeps the file's comments and the
`always`/`never` lists); the agent checks the whole policy and its refusal is said beside the
choice, which then shows the policy in force again.  How much was looked inside since the agent
started comes from `GET /v1/status` (`connections`); when the agent does not answer, no number
is shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Signal

from abhaya.client import contract
from abhaya.client.api import ClientError
from abhaya.filters.policy.load import PolicyError, parse_policy
from abhaya.filters.policy.model import InspectMode
from abhaya.ui.console.controllers.base import Controller
from abhaya.ui.console.controllers.policysave import (
    SaveOutcome,
    outcome_words,
    refusal_words,
    save_edit,
)
from abhaya.ui.console.policyedit import write_inspect_mode
from abhaya.ui.console.texts import Texts


@dataclass(frozen=True, slots=True)
class InspectChoice:
    text: str
    """The choice in force, in words (or why it is not known)."""
    note: str
    """Where it is set, or why it cannot be changed here."""
    mode: InspectMode | None = None
    """None when the policy could not be read (nothing to choose from)."""
    editable: bool = False
    """False on the agent's embedded default policy: the page offers no Save."""


def inspect_choice_of(policy: contract.PolicyText, texts: Texts) -> InspectChoice:
    """The policy's `[inspect] mode` in words, as the agent reads it (its default included)."""
    try:
        mode = parse_policy(policy["text"], policy["source"]).inspect.mode
    except PolicyError as error:
        return InspectChoice(texts("inspect.unknown", message=str(error)), "")
    note = (
        texts("settings.retention_note", source=policy["source"])
        if policy["editable"]
        else texts("inspect.not_editable")
    )
    return InspectChoice(texts(f"inspect.now_{mode}"), note, mode, policy["editable"])


def coverage_of(connections: contract.ConnectionSummary, texts: Texts) -> str:
    """The status's connection counts in a sentence."""
    return texts(
        "inspect.coverage",
        inspected=connections["inspected"],
        passed=connections["passed_through"],
    )


class SecureSitesController(Controller):
    choice = Signal(object)
    """An InspectChoice."""
    coverage = Signal(str)
    told = Signal(str)
    """Words beside Save: a save's end, or the agent's refusal."""

    def refresh(self) -> None:
        self._read_choice()
        self._runner.submit(
            self._service.status,
            lambda status: self.coverage.emit(coverage_of(status["connections"], self._texts)),
            lambda error: self.coverage.emit(
                self._texts("inspect.coverage_unknown", message=str(error))
            ),
        )

    def _read_choice(self) -> None:
        self._runner.submit(
            self._service.policy,
            lambda policy: self.choice.emit(inspect_choice_of(policy, self._texts)),
            lambda error: self.choice.emit(
                InspectChoice(self._texts("inspect.unknown", message=str(error)), "")
            ),
        )

    def save(self, mode: str) -> None:
        """Write the mode into the policy in force and apply it; the agent checks the rest."""
        self.told.emit(self._texts("retention.saving"))
        self._runner.submit(
            lambda: save_edit(
                self._service,
                lambda text: write_inspect_mode(text, mode),
                self._texts("inspect.not_editable"),
            ),
            lambda outcome: self._saved(outcome, mode),
            self._refused,
        )

    def _saved(self, outcome: SaveOutcome, mode: str) -> None:
        saved, unchanged = self._texts(f"inspect.saved_{mode}"), self._texts("inspect.unchanged")
        self.told.emit(outcome_words(outcome, saved, unchanged))
        if outcome.problem is not None:
            self._read_choice()  # the choice in force, not the one that could not be saved
        elif outcome.applied is not None:
            self.refresh()

    def _refused(self, error: ClientError) -> None:
        self.told.emit(refusal_words(error, self._texts, "inspect.not_editable", "inspect.refused"))
        self._read_choice()  # the choice in force again, not the one refused
