"""One edit of the policy in force, saved through the API: Rules, Activity, Settings, set-up.

The pages change the policy the same way: read the text in force now (not the one the page was
filled from, so a change made meanwhile elsewhere stays), apply a pure `policyedit` edit to it,
and `PUT /v1/policy` only when the text changed.  The agent checks the whole policy and refuses
in words; callers show that refusal where it belongs on their page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from abhaya.client import contract
from abhaya.client.api import ClientError
from abhaya.ui.console.policyedit import PolicyEditError
from abhaya.ui.console.service import ConsoleService
from abhaya.ui.console.texts import Texts


@dataclass(frozen=True, slots=True)
class SaveOutcome:
    """A save's end: applied, nothing to apply (both None), or a problem found before the PUT."""

    applied: contract.PolicyApplied | None = None
    problem: str | None = None


def save_edit(
    service: ConsoleService, edit: Callable[[str], str], not_editable: str
) -> SaveOutcome:
    """On a runner's thread: `edit` applied to the policy in force now, and saved if it changed.

    `not_editable` is the words for an agent on its embedded policy; a `PolicyEditError` from
    `edit` (a text the editor cannot read, a profile that is gone) is a problem, not a crash.
    """
    current = service.policy()
    if not current["editable"]:
        return SaveOutcome(problem=not_editable)
    try:
        text = edit(current["text"])
    except PolicyEditError as error:
        return SaveOutcome(problem=str(error))
    if text == current["text"]:
        return SaveOutcome()
    return SaveOutcome(applied=service.apply_policy(text))


def outcome_words(outcome: SaveOutcome, saved: str, unchanged: str) -> str:
    """What a page says once a save ended: the problem found before the PUT, `unchanged` when
    there was nothing to apply, or `saved` with the agent's notices (one a line) after it."""
    if outcome.problem is not None:
        return outcome.problem
    if outcome.applied is None:
        return unchanged
    return "\n".join([saved, *outcome.applied["notices"]])


def refusal_words(error: ClientError, texts: Texts, not_editable: str, refused: str) -> str:
    """What a page says when the agent refused a save: the text under `not_editable` for a
    policy it does not let anyone edit (409, the built-in one), else the text under `refused`
    with the agent's own words as its `message`."""
    if error.status == 409:
        return texts(not_editable)
    return texts(refused, message=str(error))
