"""Closing a client connection mitmproxy holds, from outside its own machinery."""

from __future__ import annotations

from mitmproxy import ctx


def close_client(client_id: str) -> None:
    """Close the client connection `client_id` (and so its server side) as mitmproxy's own
    inactivity timeout does: its connection handler cancels the task reading the client; the
    server connections are closed after it.  Nothing happens when it has already ended."""
    handler = ctx.master.addons.get("proxyserver").connections.get(client_id)
    if handler is not None:
        handler.close_connection(handler.client)
