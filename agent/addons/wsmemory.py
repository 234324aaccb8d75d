"""Keeps a long-lived WebSocket from holding every message it ever carried.

mitmproxy 11.0 appends each WebSocket message to `flow.websocket.messages` and keeps the list
until the flow is gone, so a chat or game socket open all day grows the agent's memory by all
the traffic it carried (mitmproxy issues #6371, #6620; its maintainers leave trimming to an
addon).  Nothing in Abhaya reads past the newest message, and mitmproxy relays the message it
holds itself, not the list.  So, last in the pipeline, after every addon has seen the message,
the list is cut to the newest one.
"""

from __future__ import annotations

from mitmproxy import http

KEEP = 1
"""Messages kept on the flow: the newest, which mitmproxy's hooks name as `messages[-1]`."""


class WebSocketMemory:
    name = "wsmemory"

    def websocket_message(self, flow: http.HTTPFlow) -> None:
        """Runs after every other addon's `websocket_message`: drop the older messages."""
        websocket = flow.websocket
        if websocket is not None and len(websocket.messages) > KEEP:
            del websocket.messages[:-KEEP]
