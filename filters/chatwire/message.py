"""The chat message the proxy hands to the chat watch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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
