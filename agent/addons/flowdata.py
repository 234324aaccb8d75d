"""What the addons leave on a flow for the addons after them."""

from __future__ import annotations

from mitmproxy import http

from abhaya.filters.urlnorm import DEFAULT_PORTS
from abhaya.filters.verdict import Verdict

VERDICT_KEY = "abhaya.verdict"
"""`flow.metadata` key of the request's `Verdict`: written by policy, read by pages and log."""


def verdict_of(flow: http.HTTPFlow) -> Verdict | None:
    value = flow.metadata.get(VERDICT_KEY)
    return value if isinstance(value, Verdict) else None


def set_verdict(flow: http.HTTPFlow, verdict: Verdict) -> None:
    flow.metadata[VERDICT_KEY] = verdict


def request_url(request: http.Request, *, by_host_header: bool = False) -> str:
    """The request's absolute URL, with IPv6 hosts in brackets.

    mitmproxy's `url` and `pretty_url` leave IPv6 literals bare (`http://::1:8080/`), which no
    URL parser reads back.  `by_host_header` names the site the Host header claims instead of
    the connection's target.
    """
    host = request.pretty_host if by_host_header else request.host
    if ":" in host:
        host = f"[{host}]"
    port = "" if DEFAULT_PORTS.get(request.scheme) == request.port else f":{request.port}"
    return f"{request.scheme}://{host}{port}{request.path}"


def host_key(host: str) -> str:
    """The host as access requests and approvals are keyed: lower case, no trailing dot."""
    return host.lower().rstrip(".")
