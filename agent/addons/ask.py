"""Answers the ask-a-parent form that warning pages post to `/__abhaya/ask` on the stopped host.

The form posts to the same host the child was stopped on, so it works for HTTPS pages too (the
proxy already intercepts that host to show the page).  The proxy answers the reserved path
itself and never contacts the server.  A request is stored only when the page it names is
really stopped for this profile by a category that allows asking (never csam), so a page
cannot use the form to file requests for something else.  The form must come from the warning
page itself: its `Origin` (or, without one, `Sec-Fetch-Site: same-origin`) must be the stopped
page's own, and its token (from that page, bound to the page's scheme, host and port) is good
for one request only.  The reason is the child's own text:
limited to REASON_LIMIT characters, stored as given, and only ever shown escaped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from urllib.parse import parse_qs

from mitmproxy import http

from abhaya.agent.addons.flowdata import (
    attribution_of,
    host_key,
    page_topic,
    profile_of,
    request_url,
    respond_with_error,
    respond_with_page,
    set_verdict,
    verdict_of,
)
from abhaya.agent.services import Services
from abhaya.agent.store import Event, EventKind, StoreError
from abhaya.agent.store.access import AccessError
from abhaya.agent.store.driver import Error as DriverError
from abhaya.filters.decide import decide
from abhaya.filters.verdict import Action, Reason, RequestInfo, Verdict
from abhaya.ui.pages.render import REASON_LIMIT, PageContext, choose_language

log = logging.getLogger(__name__)

ASK_PATH = "/__abhaya/ask"
TOKEN_PURPOSE = "ask"
FORM_LIFETIME = dt.timedelta(hours=1)
"""How long the form on a warning page stays usable."""
MAX_FORM_BYTES = 8 * 1024
"""A form with 500 characters of any script fits in well under this (URL-encoded)."""
MAX_PAGE_CHARS = 2000
_MARK = "abhaya.ask"
_HANDLED = Verdict(
    Action.ALLOW, Reason.NO_MATCH, detail="ask-a-parent form", rule=ASK_PATH, source="agent"
)


def form_target(request: http.Request) -> str:
    """What a form token is bound to: the page's scheme, host and port."""
    return f"{request.scheme}://{host_key(request.host)}:{request.port}"


def same_origin(request: http.Request) -> bool:
    """Whether the browser says the form was posted from the page it is posted to."""
    origin: str | None = request.headers.get("origin")
    if origin is not None:
        own = request_url(request, by_host_header=True).removesuffix(request.path)
        return origin.lower().rstrip("/") == own.lower()
    site: str = request.headers.get("sec-fetch-site", "")
    return site.lower() == "same-origin"


class AskParent:
    def __init__(self, services: Services) -> None:
        self._services = services

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        """Claim requests for the reserved path before the policy addon decides them."""
        if verdict_of(flow) is not None or flow.request.path.partition("?")[0] != ASK_PATH:
            return
        set_verdict(flow, _HANDLED)  # policy, pages and log leave this flow alone
        flow.metadata[_MARK] = True
        flow.request.stream = False  # hold the (small) form body; never forward it
        if flow.request.method != "POST":
            self._error(flow, 405, "The ask-a-parent form is sent with POST.")
            return
        if not same_origin(flow.request):
            self._error(flow, 403, "This form can only be sent from Abhaya's own page.")
            return
        token = flow.request.query.get("t", "")
        services = self._services
        if not services.tokens.valid(
            token,
            TOKEN_PURPOSE,
            profile_of(flow, services.policy.current).name,
            form_target(flow.request),
            services.clock(),
        ):
            self._error(flow, 403, "This form has expired. Go back, reload the page and try again.")
            return
        length = flow.request.headers.get("content-length")
        if length is None:  # chunked: its size is unknown until read, so it is not read
            self._error(flow, 411, "The form could not be read.")
        elif not length.isdigit() or int(length) > MAX_FORM_BYTES:
            self._error(flow, 413, "The message is too long.")

    async def request(self, flow: http.HTTPFlow) -> None:
        """The whole form has arrived: check it, store the request, answer the child."""
        if not flow.metadata.get(_MARK) or flow.response is not None:
            return
        body = flow.request.raw_content or b""
        if len(body) > MAX_FORM_BYTES:
            self._error(flow, 413, "The message is too long.")
            return
        try:
            form = parse_qs(
                body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=5
            )
        except (UnicodeDecodeError, ValueError):
            self._error(flow, 400, "The form could not be read.")
            return
        reasons, pages = form.get("reason", []), form.get("page", [])
        if len(reasons) != 1 or len(pages) != 1:
            self._error(flow, 400, "The form is missing the reason or the page.")
            return
        reason, page = reasons[0].strip(), pages[0].partition("?")[0].partition("#")[0]
        if not reason:
            self._error(flow, 400, "Please write why you need this page.")
            return
        if len(reason) > REASON_LIMIT:
            self._error(flow, 413, f"Please write at most {REASON_LIMIT} characters.")
            return
        if not page.startswith("/") or page.startswith("//") or len(page) > MAX_PAGE_CHARS:
            self._error(flow, 400, "The form names no page on this site.")
            return
        services = self._services
        compiled = services.policy.current
        profile = profile_of(flow, compiled)
        now = services.clock()
        request = flow.request
        scheme_host = request_url(request).removesuffix(request.path)
        url = scheme_host + page
        verdict = decide(RequestInfo(url), profile, now)
        if not verdict.stops or not verdict.ask_parent:
            self._error(flow, 403, "Asking a parent is not offered for this page.")
            return
        if not services.tokens.redeem(
            request.query.get("t", ""), TOKEN_PURPOSE, profile.name, form_target(request), now
        ):
            self._error(flow, 403, "This form was already sent. Reload the page to ask again.")
            return
        domain = host_key(request.host)
        try:
            ident = await asyncio.to_thread(
                services.access.ask, profile.name, domain, url, reason, now
            )
        except AccessError as error:
            self._error(flow, 429, str(error))
            return
        except (StoreError, DriverError):
            log.exception("an access request could not be stored")
            self._error(flow, 503, "The request could not be saved. Please try again later.")
            return
        who = attribution_of(flow)
        process = await who.process_name_off_loop()
        services.events.submit(
            Event(
                time=now,
                kind=EventKind.ACCESS_REQUEST,
                profile=profile.name,
                category=str(verdict.category or ""),
                action="ask",
                domain=domain,
                url=url,
                rule=verdict.rule,
                detail=f"request {ident}",
                reason=str(verdict.reason),
                os_user=who.user,
                process=process,
            )
        )
        language = choose_language(
            request.headers.get("accept-language"), profile.language, services.pages.languages
        )
        html = services.pages.render(
            PageContext(
                kind="blocked",
                category=page_topic(verdict),
                action=str(verdict.action),
                url=url,
                ask_parent=True,
                ask_state="sent",
            ),
            language,
            compiled.book.jurisdiction,
        )
        respond_with_page(flow, 200, html, language)

    def _error(self, flow: http.HTTPFlow, status: int, text: str) -> None:
        respond_with_error(flow, self._services, status, "ask", text)
