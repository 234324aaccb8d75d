"""Serves Abhaya's own page, in the child's language, for every request the proxy could not
complete: a site that could not be reached (its name does not resolve, it refuses or never
answers, its certificate fails verification, it hangs up), a destination on this machine that
the proxy refused, and an upload answered early by `early_answer`.

The page says plainly what happened and, for an unreachable site, that it is not a block, so a
child does not take a broken site for a rule (or the reverse).  mitmproxy has no hook for this
response; the `error` hook offers the page and `error_seam` serves it (see there for why).
"""

from __future__ import annotations

import logging

from mitmproxy import http

from abhaya.agent.addons import error_seam
from abhaya.agent.addons.destination import CHILD_TEXT, REFUSED
from abhaya.agent.addons.early_answer import kept_page
from abhaya.agent.addons.flowdata import request_url
from abhaya.agent.addons.upstream_timeout import UpstreamTimeout
from abhaya.agent.names import NAME_FAILED
from abhaya.agent.services import Services
from abhaya.ui.pages.render import PageContext, choose_language

log = logging.getLogger(__name__)

_SHOWN_URL_CHARS = 300
_STATUS = {"timeout": 504}
"""HTTP status of each failure's page; 502 (Bad Gateway) for the rest."""
_SIGNS = (
    ("dns", (NAME_FAILED, "name or service not known", "name resolution", "no address")),
    ("refused", ("connection refused", "errno 111")),
    ("certificate", ("certificate", "tls handshake", "ssl")),
    ("closed", ("server disconnected", "connection closed", "reset by peer")),
)


def failure_of(message: str) -> str:
    """The kind of upstream failure an error message describes (a `FAILURES` name)."""
    lowered = message.lower()
    for failure, signs in _SIGNS:
        if any(sign.lower() in lowered for sign in signs):
            return failure
    return "other"


class UpstreamErrors:
    def __init__(self, services: Services, timeouts: UpstreamTimeout) -> None:
        self._services = services
        self._timeouts = timeouts

    def running(self) -> None:
        """Before the first connection: serve Abhaya's pages in place of mitmproxy's."""
        fallback = self._services.pages.render(
            PageContext(kind="error", category="", action="block"), "en", ""
        )
        error_seam.install(fallback)

    def error(self, flow: http.HTTPFlow) -> None:
        """Runs just before mitmproxy builds the error response: offer the page for it."""
        if flow.response is not None or flow.error is None:
            return
        kept = kept_page(flow)
        if kept is not None:
            error_seam.offer(kept)
            return
        message = flow.error.msg
        if REFUSED in message:
            self._offer_refusal(flow)
            return
        failure = "timeout" if self._timeouts.timed_out(flow) else failure_of(message)
        log.info("%s could not be reached (%s): %s", flow.request.pretty_host, failure, message)
        language = self._language(flow)
        html = self._services.pages.render(
            PageContext(
                kind="upstream",
                category="",
                action="",
                url=request_url(flow.request, by_host_header=True)[:_SHOWN_URL_CHARS],
                failure=failure,
            ),
            language,
            self._services.policy.current.book.jurisdiction,
        )
        error_seam.offer(error_seam.ErrorPage(_STATUS.get(failure, 502), html, language))

    def _offer_refusal(self, flow: http.HTTPFlow) -> None:
        html = self._services.pages.render(
            PageContext(kind="error", category="", action="block", status_text=CHILD_TEXT),
            "en",
            self._services.policy.current.book.jurisdiction,
        )
        error_seam.offer(error_seam.ErrorPage(403, html, "en"))

    def _language(self, flow: http.HTTPFlow) -> str:
        return choose_language(
            flow.request.headers.get("accept-language"),
            self._services.policy.current.profile().language,
            self._services.pages.languages,
        )
