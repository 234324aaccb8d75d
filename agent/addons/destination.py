"""Decides where the proxy may connect, on the address it actually dials, never on the name.

A name is only a spelling: `127.1`, `2130706433`, `0x7f000001`, `0177.0.0.1`, `0`, `localhost`
and any name that /etc/hosts or a DNS answer points at this machine all reach local services,
the control API among them.  So the check runs at `server_connect`, the moment mitmproxy is
about to open a server connection (absolute-form requests, requests inside CONNECT tunnels,
pass-through TLS and raw TCP alike): the name is resolved here (through `agent.names`, which
keeps an answer for a minute), every address it resolves to is checked, and the connection is
pinned to the checked address, so a second DNS answer (rebinding) cannot send it elsewhere.
An address of this machine is refused unless its port was deliberately allowed
(`RunConfig.allow_local_ports`); the control API's port never is.

mitmproxy seams (11.0, pinned by tests/agent/addons/test_destination.py):
- `server.error` set in `server_connect` makes mitmproxy refuse the connection; the HTTP layer
  then answers the flow with an error response (see `upstream_errors`).
- the HTTP layer reuses a keep-alive connection by comparing `server.address` with the name of
  the next request, so the name is put back once the connection is open or has failed.  The
  connection is open by then and `Server.__setattr__` refuses address changes on open
  connections (a guard against redirecting them); restoring the name does not redirect
  anything, so it is written past that guard.
- TLS SNI was set from the name before this hook runs, so pinning the address keeps it.

CONNECT tunnels are checked at `http_connect` too, so a tunnel to this machine is answered
with 403 before it opens; the check at `server_connect` is the one that cannot be bypassed.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
import weakref

import psutil
from mitmproxy import http
from mitmproxy.connection import Address, Server
from mitmproxy.proxy.server_hooks import ServerConnectionHookData

from abhaya.agent.addons.early_answer import SENTINEL_HOST
from abhaya.agent.addons.flowdata import respond_with_error, set_verdict
from abhaya.agent.names import NameCache
from abhaya.agent.services import Services
from abhaya.agent.store import Event, EventKind
from abhaya.filters.urlnorm import ip_of
from abhaya.filters.verdict import Action, Reason, Verdict

log = logging.getLogger(__name__)

REFUSED = "abhaya refused a destination on this machine"
"""Start of `server.error` for a refused destination; `upstream_errors` recognises it."""
API_CATEGORY = "control_api"
LOCAL_CATEGORY = "this_machine"
CHILD_TEXT = "This address cannot be opened through Abhaya."
_INTERFACE_TTL = 10.0
"""Seconds the machine's interface addresses are cached (they change with DHCP or Wi-Fi)."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class ThisMachine:
    """The addresses that reach this machine: loopback, unspecified and every interface's."""

    def __init__(self) -> None:
        self._interfaces: frozenset[IPAddress] = frozenset()
        self._read_at = -_INTERFACE_TTL

    def __contains__(self, address: IPAddress) -> bool:
        if address.is_loopback or address.is_unspecified:
            return True
        now = time.monotonic()
        if now - self._read_at >= _INTERFACE_TTL:
            self._interfaces = frozenset(
                ip_of(item.address)
                for items in psutil.net_if_addrs().values()
                for item in items
                if item.family in (socket.AF_INET, socket.AF_INET6)
            )
            self._read_at = now
        return address in self._interfaces


class Destinations:
    def __init__(
        self,
        services: Services,
        allowed_local_ports: frozenset[int],
        names: NameCache | None = None,
    ) -> None:
        self._services = services
        self._allowed = allowed_local_ports
        self.names = NameCache() if names is None else names
        self._machine = ThisMachine()
        self._names: weakref.WeakKeyDictionary[Server, Address] = weakref.WeakKeyDictionary()
        """The name each pinned connection had, until it opens or fails."""

    def refusal(self, addresses: tuple[str, ...], port: int) -> str:
        """Why a connection to these addresses on `port` is refused; "" when it may go."""
        api_port = self._services.api.port
        for text in addresses:
            if ip_of(text) not in self._machine:
                continue
            if port == api_port:
                return API_CATEGORY
            if port not in self._allowed:
                return LOCAL_CATEGORY
        return ""

    async def http_connect(self, flow: http.HTTPFlow) -> None:
        """A CONNECT tunnel to this machine is answered 403 before it opens."""
        if flow.response is not None:
            return
        request = flow.request
        resolved = await self.names.resolve(request.host)
        category = self.refusal(resolved.addresses, request.port)
        if category:
            await self._record(
                request.host, request.port, category, resolved.addresses, flow.client_conn.id
            )
            detail = f"a tunnel to {category} was asked of the proxy"
            verdict = Verdict(
                Action.BLOCK,
                Reason.LOCAL_ADDRESS,
                detail=detail,
                rule=f"{category} port {request.port}",
                source="destination",
            )
            set_verdict(flow, verdict)
            respond_with_error(flow, self._services, 403, category, CHILD_TEXT)

    async def server_connect(self, data: ServerConnectionHookData) -> None:
        """Resolve, check and pin the destination of a connection about to be opened."""
        server = data.server
        if server.error or server.address is None:
            return
        host, port = str(server.address[0]), int(server.address[1])
        if host == SENTINEL_HOST:  # a request answered early: never dialled
            server.error = "answered by Abhaya"
            return
        resolved = await self.names.resolve(host)
        if resolved.error:
            server.error = resolved.error
            return
        category = self.refusal(resolved.addresses, port)
        if category:
            await self._record(host, port, category, resolved.addresses, data.client.id)
            server.error = f"{REFUSED} ({category}): {host} port {port}"
            return
        if resolved.addresses[0] != host:
            self._names[server] = server.address
            server.address = (resolved.addresses[0], port)

    def done(self) -> None:
        """mitmproxy is shutting down: the lookup threads may go."""
        self.names.close()

    def server_connected(self, data: ServerConnectionHookData) -> None:
        """Put the name back so that keep-alive reuse matches the next request for it."""
        self._restore(data)

    def server_connect_error(self, data: ServerConnectionHookData) -> None:
        self._restore(data)

    def _restore(self, data: ServerConnectionHookData) -> None:
        name = self._names.pop(data.server, None)
        if name is not None:
            object.__setattr__(data.server, "address", name)  # past the open-connection guard

    async def _record(
        self, host: str, port: int, category: str, addresses: tuple[str, ...], client: str
    ) -> None:
        services = self._services
        detail = f"port {port} at {', '.join(addresses[:4])} was asked of the proxy"
        who = services.who.of(client)
        process = await who.process_name_off_loop()
        services.events.submit(
            Event(
                time=services.clock(),
                kind=EventKind.VERDICT,
                profile=services.policy.current.profile_for_user(who.user).name,
                os_user=who.user,
                process=process,
                category="",
                action=str(Action.BLOCK),
                domain=host,
                rule=f"{category} port {port}",
                detail=detail,
                reason=str(Reason.LOCAL_ADDRESS),
            )
        )
        log.warning("refused a connection to %s port %s (%s)", host, port, category)
