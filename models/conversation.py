"""Risk across a chat thread: evidence that builds over the grooming stages and fades with time.

One message says little; a thread says more.  Grooming is told by its stages (a contact who
asks where the child lives, offers gifts, asks for secrecy, isolates, sexualises, then asks for
photos, a meeting or another app), so each grooming label a *contact* shows adds its weight the
first time and half of it each time it comes back (a contact who keeps probing where the child
lives and when the parents are out says more than one who asked once), and the alert needs two
different stages at least, so no single kind of message repeated can raise it.  Evidence halves
every `half_life` without news; a chat in one sitting (gaps under `FADE_AFTER`) does not fade.
Secrecy in a thread that has shown self-harm is about the self-harm (the chat set's convention:
a friend asked not to tell is self_harm + secrecy), not a grooming stage.
Sextortion is a threat and bullying a hurt: one message from others is enough for either.
Self-harm is urgent from either side: one message, the child's own or a friend's.

The tracker is pure and its state small and bounded (a score per risk, the labels seen, the
last few message indices that raised it), so the agent can keep one per thread in the
encrypted store and a restart loses nothing.  The grooming threshold can be set per profile by the
policy (`[chat] grooming_alert`); the others are this module's constants.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

__all__ = [
    "RISKS",
    "Alert",
    "ConversationTracker",
    "Sender",
    "ThreadState",
]

Sender = Literal["contact", "child"]
RISKS = ("grooming", "sextortion", "bullying", "self_harm")

GROOMING_WEIGHTS = {
    "personal_info": 1.0,
    "gifts": 1.0,
    "secrecy": 1.5,
    "isolation": 1.5,
    "sexual": 2.0,
    "platform_move": 2.0,
    "image_request": 2.5,
    "meeting": 2.5,
}
"""How much each grooming stage says, counted once per label and thread."""
GROOMING_REPEAT = 0.5
"""The share of a stage's weight that each later message showing it again adds."""
GROOMING_ALERT = 3.0
"""Two stages at least (for example secrecy and a gift, or sexual remarks and personal
questions), or one of the late requests with anything else."""
BULLYING_ALERT = 1.0
"""One insult or threat from others already hurts, and gaming banter is the message model's
to tell apart (it is trained on "ur trash" as banter)."""
GROOMING_MIN_STAGES = 2
KEPT_TRIGGERS = 8
FADE_AFTER = dt.timedelta(hours=1)
"""Shorter gaps do not fade the evidence: without this, one minute's fading left two stages
that add up to exactly the threshold a hair below it."""


@dataclass(frozen=True, slots=True)
class Alert:
    """A thread crossed a risk's threshold at message `index`, for these labels and messages."""

    risk: str
    index: int
    labels: tuple[str, ...]
    messages: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ThreadState:
    """What a thread's history has shown, as of `updated` (message `count` so far)."""

    scores: dict[str, float] = field(default_factory=lambda: dict.fromkeys(RISKS, 0.0))
    seen: frozenset[str] = frozenset()
    stages: frozenset[str] = frozenset()
    """Grooming labels a contact has shown (each counts once)."""
    triggers: tuple[int, ...] = ()
    alerted: frozenset[str] = frozenset()
    count: int = 0
    updated: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class ConversationTracker:
    half_life: dt.timedelta = dt.timedelta(days=3)
    grooming_alert: float = GROOMING_ALERT
    """The grooming evidence a thread needs for an alert (a policy can set it per profile:
    lower alerts earlier and more often wrongly)."""

    def update(
        self,
        state: ThreadState,
        labels: Iterable[str],
        sender: Sender,
        at: dt.datetime,
    ) -> tuple[ThreadState, tuple[Alert, ...]]:
        """Add one message's labels; returns the new state and any risk newly crossed (a
        risk alerts once per thread)."""
        found = frozenset(labels)
        index = state.count
        scores = self._faded(state, at)
        stages = state.stages
        if sender == "contact":
            shown = found & frozenset(GROOMING_WEIGHTS)
            if "self_harm" in state.seen | found:
                shown -= {"secrecy"}
            scores["grooming"] += sum(
                GROOMING_WEIGHTS[label] * (GROOMING_REPEAT if label in stages else 1.0)
                for label in shown
            )
            stages |= shown
            if "sextortion" in found:
                scores["sextortion"] += 1.0
            if "bullying" in found:
                scores["bullying"] += 1.0
        if "self_harm" in found:
            scores["self_harm"] += 1.0
        seen = state.seen | found
        triggers = state.triggers
        if found:
            triggers = (*triggers, index)[-KEPT_TRIGGERS:]
        crossed = [
            risk
            for risk, limit in (
                ("sextortion", 1.0),
                ("self_harm", 1.0),
                ("grooming", self.grooming_alert),
                ("bullying", BULLYING_ALERT),
            )
            if scores[risk] >= limit
            and risk not in state.alerted
            and (risk != "grooming" or len(stages) >= GROOMING_MIN_STAGES)
        ]
        alerts = tuple(
            Alert(risk, index, tuple(sorted(_shown(risk, seen, stages))), triggers)
            for risk in crossed
        )
        new = replace(
            state,
            scores=scores,
            seen=seen,
            stages=stages,
            triggers=triggers,
            alerted=state.alerted | frozenset(crossed),
            count=index + 1,
            updated=at,
        )
        return new, alerts

    def _faded(self, state: ThreadState, at: dt.datetime) -> dict[str, float]:
        """The scores as they stand at `at`: halved for every `half_life` since the last news."""
        if state.updated is None or at - state.updated < FADE_AFTER:
            return dict(state.scores)
        factor = math.pow(0.5, (at - state.updated) / self.half_life)
        return {risk: score * factor for risk, score in state.scores.items()}


_LABELS_OF = {
    "grooming": frozenset(GROOMING_WEIGHTS),
    "sextortion": frozenset({"sextortion", "image_request", "secrecy"}),
    "bullying": frozenset({"bullying", "isolation"}),
    "self_harm": frozenset({"self_harm", "secrecy"}),
}
"""The labels an alert of each risk lists, as far as the thread showed them."""


def _shown(risk: str, seen: frozenset[str], stages: frozenset[str]) -> frozenset[str]:
    """The labels an alert lists: for grooming the contact's stages only (the child's own
    words are no stage of it), for the others what the thread showed of them."""
    return stages if risk == "grooming" else seen & _LABELS_OF[risk]
