"""A chat alert as a parent reads it: one plain sentence, and the messages behind it.

The tracker says that a thread crossed a risk (`abhaya.models.conversation.Alert`); a parent
needs to know what that means, how urgent it is, and what was actually written, to judge it
themselves: the model can be wrong, and a parent who reads the messages can tell a friend's
joke from a stranger's request.  The sentence names no one and quotes nothing (it shows in the
tray and in notifications); the messages go in the alert's `detail`, which only the console,
behind the PIN, shows.
"""

from __future__ import annotations

import json
from datetime import datetime

from abhaya.agent.store.alerts import Alert, AlertSeverity, StoredAlert
from abhaya.agent.store.chatthreads import KeptMessage, ThreadKey, kept_from_json, kept_json
from abhaya.client import contract
from abhaya.models import conversation

__all__ = ["CHAT_ALERT", "chat_alert", "chat_evidence"]

CHAT_ALERT = "chat"
"""The alert kind of every chat risk; the risk itself is in the evidence."""

_WHAT = {
    "grooming": "Signs of grooming in a chat",
    "sextortion": "A threat to share private images in a chat",
    "bullying": "Signs of bullying in a chat",
    "self_harm": "Talk of self-harm in a chat",
}
_SEVERITY = {
    "grooming": AlertSeverity.CRITICAL,
    "sextortion": AlertSeverity.CRITICAL,
    "self_harm": AlertSeverity.CRITICAL,
    "bullying": AlertSeverity.WARNING,
}
_LABEL_WORDS = {
    "personal_info": "questions about age, school, home or when parents are away",
    "secrecy": "asking to keep it secret",
    "meeting": "asking to meet",
    "image_request": "asking for photos or a video call",
    "platform_move": "asking to move to another app",
    "gifts": "offering gifts or money",
    "sexual": "sexual remarks",
    "isolation": "setting the child apart from family or friends",
    "sextortion": "threats to share images",
    "bullying": "insults or threats",
    "self_harm": "words about self-harm or suicide",
}


def chat_alert(
    key: ThreadKey,
    found: conversation.Alert,
    kept: tuple[KeptMessage, ...],
    now: datetime,
) -> Alert:
    """The store's alert for a thread that crossed `found.risk`, with its kept messages."""
    what = _WHAT.get(found.risk, f"Chat risk ({found.risk})")
    said = "; ".join(_LABEL_WORDS.get(label, label) for label in found.labels)
    message = f"{what} on {key.site}" + (f": {said}." if said else ".")
    message += " Read the messages in the console, then talk with your child."
    detail = {
        "site": key.site,
        "thread": key.thread,
        "risk": found.risk,
        "labels": list(found.labels),
        "messages": kept_json(kept),
    }
    return Alert(
        time=now,
        kind=CHAT_ALERT,
        severity=_SEVERITY.get(found.risk, AlertSeverity.WARNING),
        message=message,
        profile=key.profile,
        detail=json.dumps(detail, ensure_ascii=False),
    )


def chat_evidence(item: StoredAlert) -> contract.ChatEvidence | None:
    """The evidence of a chat alert for the API; None for other alerts (or an unreadable
    detail, which the message still describes)."""
    if item.alert.kind != CHAT_ALERT or not item.alert.detail:
        return None
    try:
        data = json.loads(item.alert.detail)
        return {
            "site": str(data["site"]),
            "thread": str(data["thread"]),
            "risk": str(data["risk"]),
            "labels": [str(label) for label in data["labels"]],
            "messages": [
                {
                    "time": item.time.isoformat(),
                    "sender": item.sender,
                    "text": item.text,
                    "labels": list(item.labels),
                }
                for item in kept_from_json(data["messages"])
            ],
        }
    except (ValueError, KeyError, TypeError):
        return None
