"""Keeps the control API out of the proxy's reach.

The API listens on loopback, and the proxy runs on the same machine, so without this addon a
request sent *through* the proxy to 127.0.0.1:<api port> would reach the API from the proxy's
side - a path around the protections the API puts on direct clients.  Runs first, at
`http_connect` (a CONNECT tunnel to that address) and at `requestheaders` (a plain or
intercepted request), and answers 403 with the error page; the server is never contacted.
Loopback is matched by address (127.0.0.0/8, ::1, IPv4-mapped forms, 0.0.0.0 and ::, which
connect to this machine too) and by the `localhost` names.

This is the quick, early answer for the plain spellings (it records the attempt with the
request's URL).  It decides on the spelling only; the check that cannot be bypassed by another
spelling or a name that resolves here is `destination`, on the address actually dialled.
"""

from __future__ import annotations

from mitmproxy import http

from abhaya.agent.addons.flowdata import respond_with_error, set_verdict
from abhaya.agent.services import Services
from abhaya.filters.urlnorm import ip_of
from abhaya.filters.verdict import Action, Reason, Verdict

CATEGORY = "control_api"


def is_this_machine(host: str) -> bool:
    """True for names and addresses that connect to the local machine."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ip_of(name)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


class ApiGuard:
    def __init__(self, services: Services) -> None:
        self._services = services

    def http_connect(self, flow: http.HTTPFlow) -> None:
        """A CONNECT to the API's address is refused before the tunnel opens."""
        self._check(flow)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        """A request to the API's address is refused before any other addon looks at it."""
        self._check(flow)

    def _check(self, flow: http.HTTPFlow) -> None:
        port = self._services.api.port
        request = flow.request
        if port is None or request.port != port or not is_this_machine(request.host):
            return
        detail = "a request for the agent's control API was sent through the proxy"
        verdict = Verdict(
            Action.BLOCK, Reason.LOCAL_ADDRESS, detail=detail, rule=f"port {port}", source="guard"
        )
        set_verdict(flow, verdict)
        respond_with_error(
            flow, self._services, 403, CATEGORY, "This address cannot be opened through Abhaya."
        )
