"""What the proxy hands the chat inbox: one message, as text, with where and by whom.

`Read` is what reading one input (a request body, a WebSocket message) gave: the messages
found, or why the input was skipped.  Readers return it instead of raising, so bad data from
the network is counted by the caller and never stops the traffic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MAX_TEXT_CHARS = 4000
"""A message's text is cut here: chat messages are short (Discord allows 2,000 characters,
4,000 with a subscription), and the classifier reads only the start of a long text anyway."""

Sender = Literal["child", "contact", "unknown"]


@dataclass(frozen=True, slots=True)
class SeenMessage:
    site: str
    """The site's name in chat_sites.toml or the policy ("discord", ...)."""
    thread: str
    """A stable thread id within the site (Discord: the channel id)."""
    sender: Sender
    """"child" for what this machine's user sent, "contact" for what others sent, "unknown"
    when the format cannot tell."""
    text: str
    """Cut to `MAX_TEXT_CHARS`."""


def seen(site: str, thread: str, sender: Sender, text: str) -> SeenMessage | None:
    """A message with its text cut to size, or None when there is no text to read."""
    text = text.strip()
    if not text:
        return None
    return SeenMessage(site, thread[:200], sender, text[:MAX_TEXT_CHARS])


@dataclass(frozen=True, slots=True)
class Read:
    """The messages one input held, or why it was skipped (`skipped`: a short reason such as
    "too large", "not UTF-8", "not JSON", which the caller counts)."""

    messages: tuple[SeenMessage, ...] = ()
    skipped: str | None = None


NOTHING = Read()
"""An input that was read and holds no message (a heartbeat, a typing notice)."""


def skipped(reason: str) -> Read:
    return Read((), reason)


def found(*messages: SeenMessage | None) -> Read:
    return Read(tuple(m for m in messages if m is not None))
