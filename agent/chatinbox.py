"""Where the proxy hands the chat messages it reads: the chat inbox's door.

The proxy's chat reader (`addons/chatread.py`) calls `offer` on the event loop for every
message it reads on a chat site.  The inbox (a bounded worker that classifies messages off the
event loop, tracks threads and raises alerts) lives behind this one method.
"""

from __future__ import annotations

from typing import Protocol

from abhaya.filters.chatwire.message import SeenMessage


class ChatInbox(Protocol):
    def offer(self, profile: str, message: SeenMessage) -> None:
        """Take one message read for `profile`'s child.  Never blocks and never raises for a
        full inbox: it drops what it cannot hold, and counts what it dropped."""
        ...
