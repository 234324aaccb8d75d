""" "Allow this site" / "block this site" from an event on the Activity page.

The site is the event host's registrable domain (`www.bet.example` -> `bet.example`), as an
approval of a child's request covers it; it goes onto the chosen child's own list (or every
child's) in the policy file, written by the Rules page's editor (`policyedit.add_site`) and
saved by its save (`policysave.save_edit`), so there is one way the console changes a list.
The parent is asked first, in words ("Always allow bet.example for asha?").  The child names
come from the policy in force, read when the page opens and after each change.

A parent's earlier approval of a child's request beats the block list, so a block also ends the
running approvals of the site for the same children (`POST /v1/approvals/end`), once the policy
is saved, and says so: a parent who presses Block expects the site blocked now.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Signal

from abhaya.client import contract
from abhaya.client.api import ClientError
from abhaya.filters.suffixes import registrable_domain
from abhaya.ui.console.controllers.base import Controller
from abhaya.ui.console.controllers.policysave import SaveOutcome, refusal_words, save_edit
from abhaya.ui.console.policyedit import (
    ZERO_TOLERANCE,
    PolicyEditError,
    PolicyRules,
    add_site,
    read_rules,
)
from abhaya.ui.console.runner import Runner
from abhaya.ui.console.service import ConsoleService
from abhaya.ui.console.texts import Texts

EVERY_CHILD = "*"
"""The target that means every profile of the policy."""


@dataclass(frozen=True, slots=True)
class SiteOffer:
    """What the detail offers for the chosen event."""

    site: str
    targets: tuple[tuple[str, str], ...]
    """(key, label) of whom a change may be for: the event's child first, then every child."""
    can_allow: bool
    can_block: bool
    note: str = ""
    """Why a button is off, in words ("" when both are on)."""


@dataclass(frozen=True, slots=True)
class SiteChange:
    """One change the parent asked for, with the question to confirm it."""

    site: str
    listed: str
    """"allow" or "block"."""
    profiles: tuple[str, ...]
    who: str
    question: str


@dataclass(frozen=True, slots=True)
class SiteSaved:
    """A confirmed change's end: the save's, and for a block the approvals it ended."""

    outcome: SaveOutcome
    ended: tuple[contract.AccessRequestRecord, ...] = ()
    end_problem: str | None = None
    """Why the approvals could not be ended (the agent's words); the block itself was saved."""


def save_change(service: ConsoleService, change: SiteChange, not_editable: str) -> SiteSaved:
    """On a runner's thread: the site written onto the lists and saved, then, for a block that
    was saved (or was there already), the children's approvals of the site ended."""

    def edit(text: str) -> str:
        return add_site(text, change.profiles, change.site, change.listed)

    outcome = save_edit(service, edit, not_editable)
    if change.listed != "block" or outcome.problem is not None:
        return SiteSaved(outcome)
    try:
        answer = service.end_approvals(change.site, change.profiles)
    except ClientError as error:
        return SiteSaved(outcome, end_problem=str(error))
    return SiteSaved(outcome, tuple(answer["ended"]))


def site_of(event: contract.EventRecord) -> str:
    """The site an event's host belongs to; "" for an event that names none."""
    host = event["domain"].strip().rstrip(".").lower()
    return registrable_domain(host) if host else ""


def offer_of(
    event: contract.EventRecord | None,
    rules: PolicyRules | None,
    editable: bool,
    texts: Texts,
) -> SiteOffer | None:
    """What the detail offers for `event` under the policy `rules` (None: not read yet)."""
    if event is None or rules is None:
        return None
    site = site_of(event)
    if not site:
        return None
    names = [p.name for p in rules.profiles]
    targets = [(event["profile"], event["profile"])] if event["profile"] in names else []
    if len(names) > 1 or not targets:
        targets.append((EVERY_CHILD, texts("site_rules.every_child")))
    zero = event["category"] == ZERO_TOLERANCE
    if not editable:
        note = texts("rules.not_editable")
    elif zero:
        note = texts("site_rules.never_allowed")
    else:
        note = ""
    return SiteOffer(
        site, tuple(targets), can_allow=editable and not zero, can_block=editable, note=note
    )


def change_for(
    offer: SiteOffer, rules: PolicyRules, listed: str, target: str, texts: Texts
) -> SiteChange | None:
    """The change a press of allow or block means, with its question; None when the offer
    does not allow it (a button that was off, a target not offered)."""
    if target not in dict(offer.targets):
        return None
    if not (offer.can_allow if listed == "allow" else listed == "block" and offer.can_block):
        return None
    if target == EVERY_CHILD:
        names = tuple(p.name for p in rules.profiles)
        who = texts("site_rules.every_child_for")
    else:
        names, who = (target,), target
    question = texts(f"site_rules.ask_{listed}", site=offer.site, who=who)
    return SiteChange(offer.site, listed, names, who, question)


class SitesController(Controller):
    profiles = Signal(object)
    """The policy's child (profile) names, a tuple, after each read of the policy."""
    offer = Signal(object)
    """A SiteOffer for the chosen event, or None (no event, or one without a site)."""
    confirm = Signal(object)
    """A SiteChange the parent is to confirm before it is saved."""
    told = Signal(str)

    def __init__(self, service: ConsoleService, runner: Runner, texts: Texts) -> None:
        super().__init__(service, runner, texts)
        self.rules: PolicyRules | None = None
        self.editable = False
        self._event: contract.EventRecord | None = None
        self._offer: SiteOffer | None = None

    def refresh(self) -> None:
        self._runner.submit(self._service.policy, self._loaded, self._failed)

    def offer_for(self, event: contract.EventRecord | None) -> None:
        self._event = event
        self.told.emit("")
        self._offer = offer_of(event, self.rules, self.editable, self._texts)
        self.offer.emit(self._offer)

    def ask(self, listed: str, target: str) -> None:
        """The parent pressed allow or block with `target` chosen: ask them to confirm."""
        if self._offer is not None and self.rules is not None:
            change = change_for(self._offer, self.rules, listed, target, self._texts)
            if change is not None:
                self.confirm.emit(change)

    def change(self, change: SiteChange) -> None:
        """The parent confirmed: write the site onto the lists and save, off the UI thread."""
        self.told.emit(self._texts("site_rules.saving"))
        self._runner.submit(
            lambda: save_change(self._service, change, self._texts("rules.not_editable")),
            lambda saved: self._saved(change, saved),
            self._refused,
        )

    def _loaded(self, answer: contract.PolicyText) -> None:
        try:
            self.rules = read_rules(answer["text"])
        except PolicyEditError as error:
            self.rules = None
            self.told.emit(str(error))
            return
        self.editable = answer["editable"]
        self.profiles.emit(tuple(p.name for p in self.rules.profiles))
        self._offer = offer_of(self._event, self.rules, self.editable, self._texts)
        self.offer.emit(self._offer)

    def _saved(self, change: SiteChange, saved: SiteSaved) -> None:
        outcome = saved.outcome
        if outcome.problem is not None:
            self.told.emit(outcome.problem)
            return
        done = "allowed" if change.listed == "allow" else "blocked"
        key = f"site_rules.{done}" if outcome.applied is not None else f"site_rules.already_{done}"
        words = [self._texts(key, site=change.site, who=change.who)]
        if outcome.applied is not None:
            words.extend(outcome.applied["notices"])
        if saved.ended:
            key = "ended_one" if len(saved.ended) == 1 else "ended_many"
            words.append(self._texts(f"ended_approvals.{key}", site=change.site))
        if saved.end_problem is not None:
            words.append(
                self._texts(
                    "ended_approvals.not_ended", site=change.site, message=saved.end_problem
                )
            )
        self.told.emit("\n".join(words))
        self.refresh()

    def _refused(self, error: ClientError) -> None:
        self.told.emit(
            refusal_words(error, self._texts, "rules.not_editable", "site_rules.refused")
        )

    def _failed(self, error: ClientError) -> None:
        self.told.emit(self._texts("site_rules.refused", message=str(error)))
