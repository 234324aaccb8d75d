"""Finds which OS user (and, when an event needs it, which process) opened each connection.

Runs first.  At `client_connected`, once per client connection and before its first request,
the connecting socket on the loopback address is looked up in the OS's socket table (in a
worker thread, with a time limit); the answer is kept until the client disconnects.  Each
request then carries it in `flow.metadata`, and the addons after this one decide the request
with that user's profile (`flowdata.profile_of`).  A connection that cannot be attributed is
decided with the policy's default profile; attribution never raises into the proxy.
"""

from __future__ import annotations

from mitmproxy import connection, http

from abhaya.agent.addons.flowdata import set_attribution
from abhaya.agent.services import Services


class WhoIsConnecting:
    def __init__(self, services: Services) -> None:
        self._owners = services.who

    async def client_connected(self, client: connection.Client) -> None:
        """Attribute the connection; the proxy reads no request from it until this returns."""
        await self._owners.attach(client.id, client.peername[:2], client.sockname[:2])

    def client_disconnected(self, client: connection.Client) -> None:
        self._owners.forget(client.id)

    def http_connect(self, flow: http.HTTPFlow) -> None:
        set_attribution(flow, self._owners.of(flow.client_conn.id))

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        set_attribution(flow, self._owners.of(flow.client_conn.id))
