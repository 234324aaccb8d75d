"""Keeps each connection mitmproxy passes through undecrypted in `Services.passed`.

Runs right after `PolicyAddon`, whose `tls_clienthello` decides whether a connection is
decrypted.  A connection it passes through is kept, with a way to close it, until the client
disconnects, so the agent can judge it again while it stays open (`agent.passedtunnels`: the
end of the allowed hours or a newly blocked site reach it too).  The tunnels the relay carries
itself (`agent.tunnels`) are kept by the relay.
"""

from __future__ import annotations

from functools import partial

from mitmproxy import connection, tls

from abhaya.agent.addons.closeclient import close_client
from abhaya.agent.addons.policy import tunnel_of
from abhaya.agent.services import Services


class PassedThrough:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._tokens: dict[str, int] = {}
        """Client connection id -> its token in `Services.passed`."""

    def tls_clienthello(self, data: tls.ClientHelloData) -> None:
        if not data.ignore_connection:
            return
        client = data.context.client
        try:
            tunnel = tunnel_of(self._services, data)
            token = self._services.passed.add(tunnel, partial(close_client, client.id))
            self._tokens[client.id] = token
        except BaseException:
            # A tunnel that could not be kept could not be judged again: decrypt it instead.
            data.ignore_connection = False
            raise

    def client_disconnected(self, client: connection.Client) -> None:
        token = self._tokens.pop(client.id, None)
        if token is not None:
            self._services.passed.discard(token)
