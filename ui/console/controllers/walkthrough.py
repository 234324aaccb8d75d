"""The first-start walk-through's logic: when to offer it, the children's profiles, the checks.

It is offered after the first PIN is set, and at a sign-in while no profile names an OS account
(every account then browses with the default profile) unless the parent skipped it once;
Settings opens it at any time.  The children become profiles through `childsetup` and one
`PUT /v1/policy`; the agent's refusal is shown beside the child's field it names.  The last
step asks the agent whether the system trusts its CA and whether each child's account has
browsed through it, and shows the installed computer's failing checks with their fixes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import Signal

from abhaya.client import contract
from abhaya.client.api import ClientError
from abhaya.ui.console.accounts import person_accounts
from abhaya.ui.console.agebands import AgeBand, age_bands
from abhaya.ui.console.childsetup import (
    ChildInput,
    Field,
    PolicyFacts,
    Refusal,
    local_problems,
    policy_facts,
    refusal_fields,
    write_children,
)
from abhaya.ui.console.controllers.base import Controller
from abhaya.ui.console.controllers.policysave import SaveOutcome, save_edit
from abhaya.ui.console.policyedit import PolicyEditError
from abhaya.ui.console.runner import Runner
from abhaya.ui.console.service import ConsoleService, MachineStatus
from abhaya.ui.console.settings import load_settings, save_settings
from abhaya.ui.console.texts import Texts


@dataclass(frozen=True, slots=True)
class BandChoice:
    id: str
    label: str
    summary: str
    """What the band sets, in words, shown under the choice."""


@dataclass(frozen=True, slots=True)
class WalkthroughStart:
    """What the walk-through's form offers."""

    bands: tuple[BandChoice, ...]
    accounts: tuple[str, ...]
    """OS accounts no profile names yet (nor `[device] unfiltered_accounts`)."""
    editable: bool
    """False: the agent runs its built-in policy, which cannot be changed (the form says so)."""


@dataclass(frozen=True, slots=True)
class Shown:
    """A refusal as the form shows it: words by child and field, and the rest at the top."""

    fields: dict[int, dict[Field, str]]
    top: str


@dataclass(frozen=True, slots=True)
class CheckLine:
    ok: bool | None
    """None: could not be told (nothing to fix, but nothing proven either)."""
    text: str
    fix: str = ""


def band_summary(band: AgeBand, defined: frozenset[str], texts: Texts) -> str:
    """A band's settings in words: which categories are blocked or warned, images, times."""
    by_action: dict[str, list[str]] = {}
    for category, action in band.categories.items():
        if category in defined:
            by_action.setdefault(action, []).append(texts.category(category))
    lines = [
        texts(f"walkthrough.summary_{action}", categories=", ".join(names))
        for action in ("block", "warn", "allow")
        if (names := by_action.get(action))
    ]
    if band.images_action is not None:
        lines.append(texts(f"walkthrough.summary_images_{band.images_action}"))
    if band.schedule:
        windows = ", ".join(f"{w.start}-{w.end}" for w in band.schedule)
        lines.append(texts("walkthrough.summary_hours", hours=windows))
    else:
        lines.append(texts("walkthrough.summary_any_time"))
    return "\n".join(lines)


def check_lines(
    checked: MachineStatus, children: Sequence[ChildInput], texts: Texts
) -> tuple[CheckLine, ...]:
    """The last step's findings, each with its fix in words when it is not right."""
    ca = checked.status["ca"]
    lines: list[CheckLine] = []
    if ca["system_trusted"] is True:
        lines.append(CheckLine(True, texts("walkthrough.ca_trusted")))
    elif ca["system_trusted"] is False:
        lines.append(
            CheckLine(
                False,
                texts("walkthrough.ca_not_trusted"),
                texts("walkthrough.ca_fix", fingerprint=ca["fingerprint_sha256"]),
            )
        )
    else:
        lines.append(CheckLine(None, texts("walkthrough.ca_unknown", store=ca["trust_store"])))
    seen = checked.status["connections"]["last_seen_by_user"]
    for child in children:
        if not child.account:
            lines.append(
                CheckLine(
                    None,
                    texts("walkthrough.no_account", name=child.name.strip()),
                    texts("walkthrough.no_account_fix"),
                )
            )
        elif child.account in seen:
            lines.append(
                CheckLine(
                    True, texts("walkthrough.seen", name=child.name.strip(), account=child.account)
                )
            )
        else:
            # Not known rather than a problem: on a first start the child has usually not
            # browsed yet, and nothing here tells that from browsing that bypasses Abhaya.
            lines.append(
                CheckLine(
                    None,
                    texts("walkthrough.not_seen", name=child.name.strip(), account=child.account),
                    texts("walkthrough.not_seen_fix", account=child.account),
                )
            )
    machine = checked.machine
    if machine is None:
        lines.append(CheckLine(None, texts("walkthrough.no_machine_checks")))
    else:
        for problem in machine.problems:
            lines.append(CheckLine(False, problem.name, problem.fix))
    return tuple(lines)


class WalkthroughController(Controller):
    wanted = Signal(object)
    """A WalkthroughStart: show the walk-through."""
    refused = Signal(object)
    """A Shown (empty: clear the old words)."""
    told = Signal(str)
    saved = Signal()
    checked = Signal(object)
    """A tuple of CheckLine."""

    def __init__(
        self,
        service: ConsoleService,
        runner: Runner,
        texts: Texts,
        settings_path: Path,
        accounts: Callable[[], tuple[str, ...]] = person_accounts,
    ) -> None:
        """`accounts` lists the OS accounts a child may use (this computer's, by default)."""
        super().__init__(service, runner, texts)
        self._settings_path = settings_path
        self._accounts = accounts
        self.facts: PolicyFacts | None = None
        self.saved_children: tuple[ChildInput, ...] = ()

    def offer(self, first_pin: bool) -> None:
        """At sign-in: show the walk-through if no child has a profile yet (after the first PIN
        always, otherwise unless the parent skipped it)."""
        skipped = load_settings(self._settings_path).setup_skipped
        self._runner.submit(
            self._service.policy,
            lambda policy: self._start(
                policy, only_if_needed=True, skipped=skipped and not first_pin
            ),
            lambda _: None,  # the dashboard's banner already says the agent did not answer
        )

    def open(self) -> None:
        """From Settings ("Set up a child"): show it whatever the policy holds."""
        self._runner.submit(
            self._service.policy,
            lambda policy: self._start(policy, only_if_needed=False, skipped=False),
            lambda error: self.told.emit(self._texts("rules.refused", message=str(error))),
        )

    def _start(self, policy: contract.PolicyText, *, only_if_needed: bool, skipped: bool) -> None:
        try:
            facts = policy_facts(policy["text"])
        except PolicyEditError as error:
            self.told.emit(str(error))
            return
        if only_if_needed and (facts.has_children or skipped):
            return
        self.facts = facts
        bands = tuple(
            BandChoice(
                band.id,
                self._texts(f"walkthrough.band_{band.id}"),
                band_summary(band, facts.categories, self._texts),
            )
            for band in age_bands()
        )
        offered = tuple(a for a in self._accounts() if a not in facts.claimed)
        self.wanted.emit(WalkthroughStart(bands, offered, policy["editable"]))

    def skip(self) -> None:
        """Not now: remembered, so a later sign-in does not offer it again."""
        settings = load_settings(self._settings_path)
        try:
            save_settings(self._settings_path, replace(settings, setup_skipped=True))
        except OSError as error:
            self.told.emit(self._texts("walkthrough.skip_not_saved", reason=error.strerror))

    def finish(self, children: Sequence[ChildInput]) -> None:
        facts = self.facts
        if facts is None:
            return
        problems = local_problems(children, facts)
        if problems:
            fields = {n: {f: self._texts(key) for f, key in p.items()} for n, p in problems.items()}
            self.refused.emit(Shown(fields, self._texts("walkthrough.fix_fields")))
            return
        chosen = tuple(children)
        self.refused.emit(Shown({}, ""))
        self.told.emit(self._texts("rules.saving"))
        self._runner.submit(
            lambda: save_edit(
                self._service,
                lambda text: write_children(text, chosen, facts),
                self._texts("rules.not_editable"),
            ),
            lambda outcome: self._saved(outcome, chosen),
            lambda error: self._refused(error, chosen),
        )

    def _saved(self, outcome: SaveOutcome, children: tuple[ChildInput, ...]) -> None:
        if outcome.problem is not None:  # the built-in policy, or a file the editor cannot read
            self.told.emit("")
            self.refused.emit(Shown({}, outcome.problem))
            return
        self.saved_children = children
        self.told.emit(self._texts("rules.saved"))
        self.saved.emit()
        self.check()

    def _refused(self, error: ClientError, children: Sequence[ChildInput]) -> None:
        self.told.emit("")
        if error.status == 409:
            self.refused.emit(Shown({}, self._texts("rules.not_editable")))
            return
        if error.status != 422:
            self.refused.emit(Shown({}, self._texts("rules.refused", message=str(error))))
            return
        refusal = refusal_fields(str(error), children)
        self.refused.emit(self._shown(refusal))

    def _shown(self, refusal: Refusal) -> Shown:
        fields: dict[int, dict[Field, str]] = {}
        for number, problems in refusal.fields.items():
            for field, why in problems.items():
                words = why
                if field is Field.NAME:
                    words = self._texts("walkthrough.name_rule", why=why)
                fields.setdefault(number, {})[field] = words
        top = [self._texts("walkthrough.fix_fields")] if fields else []
        top.extend(refusal.rest)
        return Shown(fields, "\n".join(top))

    def check(self) -> None:
        self._runner.submit(
            self._service.machine_status,
            lambda found: self.checked.emit(check_lines(found, self.saved_children, self._texts)),
            lambda error: self.told.emit(self._texts("rules.refused", message=str(error))),
        )
