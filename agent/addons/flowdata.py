"""What the addons leave on a flow for the addons after them."""

from __future__ import annotations

from mitmproxy import http

from abhaya.agent.services import Services
from abhaya.agent.who.owners import UNATTRIBUTED, Attribution
from abhaya.filters.policy.compile import CompiledPolicy, ProfileRules
from abhaya.filters.urlnorm import DEFAULT_PORTS, bracketed
from abhaya.filters.verdict import Verdict
from abhaya.ui.pages.render import PageContext

VERDICT_KEY = "abhaya.verdict"
"""`flow.metadata` key of the request's `Verdict`: written by policy, read by pages and log."""
BODY_SEARCH_KEY = "abhaya.body_search"
"""`flow.metadata` mark: the request's search text is in its body, so policy decides it again at
`request`; pages and log answer and record it at that hook (see `decided_on_body`)."""
FAILURE_KEY = "abhaya.failure"
"""`flow.metadata` key of the first error an Abhaya addon met on this flow (see failclosed)."""


def verdict_of(flow: http.HTTPFlow) -> Verdict | None:
    value = flow.metadata.get(VERDICT_KEY)
    return value if isinstance(value, Verdict) else None


def set_verdict(flow: http.HTTPFlow, verdict: Verdict) -> None:
    flow.metadata[VERDICT_KEY] = verdict


def mark_decided_on_body(flow: http.HTTPFlow) -> None:
    flow.metadata[BODY_SEARCH_KEY] = True


def decided_on_body(flow: http.HTTPFlow) -> bool:
    """Whether the flow's final verdict is made at `request`, on the search in its body: the
    only flows the addons after policy act on at that hook (the others are answered and
    recorded at `requestheaders`).  Its verdict at `requestheaders` lets it through."""
    return flow.metadata.get(BODY_SEARCH_KEY) is True


def mark_failed(flow: http.HTTPFlow, where: str) -> None:
    """Remember that an Abhaya addon failed on this flow; the last word blocks it."""
    flow.metadata.setdefault(FAILURE_KEY, where)


def failure_of(flow: http.HTTPFlow) -> str | None:
    """Where an Abhaya addon failed on this flow (`addon.hook`), or None."""
    value = flow.metadata.get(FAILURE_KEY)
    return value if isinstance(value, str) else None


def page_topic(verdict: Verdict) -> str:
    """What a warning page explains: the category, or the reason when there is none
    (a parent's own rule, the schedule)."""
    return str(verdict.category) if verdict.category is not None else str(verdict.reason)


ATTRIBUTION_KEY = "abhaya.who"
"""`flow.metadata` key of the connection's `Attribution`: written by who, read by the rest."""


def attribution_of(flow: http.HTTPFlow) -> Attribution:
    """Who opened the flow's connection; `UNATTRIBUTED` (user "") when nobody could be found."""
    value = flow.metadata.get(ATTRIBUTION_KEY)
    return value if isinstance(value, Attribution) else UNATTRIBUTED


def set_attribution(flow: http.HTTPFlow, attribution: Attribution) -> None:
    flow.metadata[ATTRIBUTION_KEY] = attribution


def profile_of(flow: http.HTTPFlow, compiled: CompiledPolicy) -> ProfileRules:
    """The profile that decides this flow: its OS user's, else the policy's default."""
    return compiled.profile_for_user(attribution_of(flow).user)


def request_url(request: http.Request, *, by_host_header: bool = False) -> str:
    """The request's absolute URL, with IPv6 hosts in brackets.

    mitmproxy's `url` and `pretty_url` leave IPv6 literals bare (`http://::1:8080/`), which no
    URL parser reads back.  `by_host_header` names the site the Host header claims instead of
    the connection's target.
    """
    host = bracketed(request.pretty_host if by_host_header else request.host)
    port = "" if DEFAULT_PORTS.get(request.scheme) == request.port else f":{request.port}"
    return f"{request.scheme}://{host}{port}{request.path}"


def host_key(host: str) -> str:
    """The host as access requests and approvals are keyed: lower case, no trailing dot."""
    return host.lower().rstrip(".")


_PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    # The pages are self-contained: inline style, the back button's inline onclick, data: images.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "script-src 'unsafe-inline'; img-src data:",
}


def page_headers(language: str) -> dict[str, str]:
    """The headers every page of Abhaya's own is served with."""
    return {**_PAGE_HEADERS, "Content-Language": language}


def respond_with_page(flow: http.HTTPFlow, status: int, html: str, language: str) -> None:
    """Answer the flow with one of Abhaya's own pages; the server is never asked.

    A small request body still arriving is read and dropped; for one that may be large, the
    `early_answer` addon (last in the pipeline) sends the page without reading it.
    """
    flow.request.stream = False
    flow.response = http.Response.make(status, html, page_headers(language))


def respond_with_error(
    flow: http.HTTPFlow, services: Services, status: int, topic: str, child_text: str
) -> None:
    """Answer with the small error page (English: it explains a refused request)."""
    html = services.pages.render(
        PageContext(kind="error", category=topic, action="block", status_text=child_text),
        "en",
        services.policy.current.book.jurisdiction,
    )
    respond_with_page(flow, status, html, "en")
