"""A whole conversation judged message by message (`abhaya classify-chat`, `abhaya eval
conversations`): the message model's labels fed to the thread tracker in order.

The conversation files have no times, so messages are taken one minute apart; the tracker's
fading then plays no part, as in a chat read in one sitting.  The verdict's risk is the gravest
risk the thread alerted for (by `SEVERITY`), and `first_alert_at` the index of the message that
raised its first alert: the earlier, the sooner a parent hears of it.

Pure: the caller classifies (in one call, so it can batch), nothing is loaded here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from abhaya.filters.problems import LineError, json_objects
from abhaya.models.conversation import RISKS, Alert, ConversationTracker, Sender, ThreadState

__all__ = [
    "Conversation",
    "ConversationFileError",
    "ConversationReport",
    "ConversationVerdict",
    "judge",
    "parse_conversations",
]

Classify = Callable[[list[str]], list[frozenset[str]]]
LATE_REQUESTS = frozenset({"image_request", "meeting", "platform_move"})
SEVERITY = ("sextortion", "grooming", "self_harm", "bullying")
"""Which risk names a thread that alerted for several: the one a parent must act on first."""
_START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


class ConversationFileError(LineError):
    """A line that is not a conversation; names the file, line and reason."""


@dataclass(frozen=True, slots=True)
class Conversation:
    id: str
    risk: str  # one of RISKS or "none"; "" when unlabelled (classify-chat input)
    messages: tuple[tuple[Sender, str], ...]


@dataclass(frozen=True, slots=True)
class ConversationVerdict:
    risk: str
    first_alert_at: int | None
    labels: tuple[str, ...]
    alerts: tuple[Alert, ...]
    first_late_request: int | None
    """The first contact message the model labelled a photo, meeting or app-move request."""

    @property
    def flagged(self) -> bool:
        return self.first_alert_at is not None

    def as_json(self) -> dict[str, object]:
        return {
            "risk": self.risk,
            "flagged": self.flagged,
            "first_alert_at": self.first_alert_at,
            "labels": list(self.labels),
        }


def judge(
    messages: Sequence[tuple[Sender, str]],
    classify: Classify,
    tracker: ConversationTracker | None = None,
) -> ConversationVerdict:
    """Classify every message and run the thread tracker over them in order."""
    tracker = tracker or ConversationTracker()
    found = classify([text for _, text in messages]) if messages else []
    state = ThreadState()
    alerts: list[Alert] = []
    late: int | None = None
    for index, ((sender, _), labels) in enumerate(zip(messages, found, strict=True)):
        state, new = tracker.update(state, labels, sender, _START + dt.timedelta(minutes=index))
        alerts.extend(new)
        if late is None and sender == "contact" and labels & LATE_REQUESTS:
            late = index
    gravest = min(alerts, key=lambda alert: SEVERITY.index(alert.risk), default=None)
    return ConversationVerdict(
        risk=gravest.risk if gravest else "none",
        first_alert_at=alerts[0].index if alerts else None,
        labels=tuple(sorted(state.seen)),
        alerts=tuple(alerts),
        first_late_request=late,
    )


def parse_conversations(text: str, source: str, labelled: bool = True) -> list[Conversation]:
    """Read the conversation format (``{"id", "risk", "messages": [{"from", "text"}]}``); `id`
    and `risk` may be left out when `labelled` is false.  A bad line is refused with the file,
    line and reason."""
    out: list[Conversation] = []
    for line in json_objects(text, source, ConversationFileError):
        record = line.record
        if not isinstance(record.get("messages"), list):
            raise ConversationFileError(line.problem("not an object with a 'messages' list"))
        risk = record.get("risk", "")
        if labelled and (risk not in (*RISKS, "none") or not isinstance(record.get("id"), str)):
            message = f"needs an 'id' and a 'risk' of {', '.join((*RISKS, 'none'))}"
            raise ConversationFileError(line.problem(message))
        messages: list[tuple[Sender, str]] = []
        for item in record["messages"]:
            sender = item.get("from") if isinstance(item, dict) else None
            if sender not in ("contact", "child") or not isinstance(item.get("text"), str):
                message = "each message needs 'from' (contact or child) and a 'text'"
                raise ConversationFileError(line.problem(message))
            messages.append(("contact" if sender == "contact" else "child", item["text"]))
        out.append(Conversation(str(record.get("id", line.number)), str(risk), tuple(messages)))
    return out


@dataclass(frozen=True, slots=True)
class ConversationReport:
    outcomes: tuple[tuple[Conversation, ConversationVerdict], ...]

    def right(self, risk: str) -> tuple[int, int]:
        """(conversations of this risk judged as it, conversations of this risk); for "none",
        the benign conversations left unflagged."""
        chosen = [(c, v) for c, v in self.outcomes if c.risk == risk]
        good = sum(v.risk == risk if risk != "none" else not v.flagged for c, v in chosen)
        return good, len(chosen)

    def early(self) -> tuple[int, int]:
        """(grooming and sextortion conversations alerted for that risk before the first photo,
        meeting or app-move request the model saw, such conversations)."""
        chosen = [(c, v) for c, v in self.outcomes if c.risk in ("grooming", "sextortion")]
        good = 0
        for conversation, verdict in chosen:
            at = next((a.index for a in verdict.alerts if a.risk == conversation.risk), None)
            late = verdict.first_late_request
            good += at is not None and (late is None or at < late)
        return good, len(chosen)

    def table(self) -> str:
        lines = ["| risk | judged right |", "|---|---:|"]
        for risk in (*RISKS, "none"):
            good, total = self.right(risk)
            lines.append(f"| {risk} | {good}/{total} |")
        good, total = self.early()
        lines += [
            "",
            f"Grooming and sextortion alerted before the first photo, meeting or app-move "
            f"request the model saw: {good}/{total}",
            "",
        ]
        for conversation, verdict in self.outcomes:
            at = "-" if verdict.first_alert_at is None else str(verdict.first_alert_at)
            lines.append(
                f"  {conversation.id} [{conversation.risk}] -> {verdict.risk} at {at} "
                f"of {len(conversation.messages)} ({', '.join(verdict.labels) or 'no labels'})"
            )
        return "\n".join(lines)

    def as_json(self) -> dict[str, object]:
        early, total = self.early()
        return {
            "risks": {
                risk: dict(zip(("right", "total"), self.right(risk), strict=True))
                for risk in (*RISKS, "none")
            },
            "early": {"right": early, "total": total},
            "conversations": [
                {"id": c.id, "expected": c.risk, **v.as_json()} for c, v in self.outcomes
            ],
        }


def evaluate(conversations: Sequence[Conversation], classify: Classify) -> ConversationReport:
    return ConversationReport(tuple((c, judge(c.messages, classify)) for c in conversations))
