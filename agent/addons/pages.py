"""Answers block and warn verdicts with a warning page, in place of the site.

The response is made by the proxy itself, at `requestheaders`, so the blocked server is never
contacted (the proxy runs with the lazy connection strategy), for HTTPS as for HTTP.  A search
sent in a request body is decided on its text at `request` (see the policy addon), and answered
there, still before any connection upstream.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from mitmproxy import http

from abhaya.agent.addons.ask import ASK_PATH, FORM_LIFETIME, TOKEN_PURPOSE, form_target
from abhaya.agent.addons.flowdata import (
    decided_on_body,
    host_key,
    page_topic,
    profile_of,
    request_url,
    respond_with_page,
    verdict_of,
)
from abhaya.agent.addons.policy import allows_continue
from abhaya.agent.services import Services
from abhaya.agent.store.access import RequestStatus
from abhaya.filters.policy.schedule import Schedule
from abhaya.filters.verdict import Action, Reason, Verdict
from abhaya.ui.pages.render import Opening, PageContext, choose_language, page_kind_for

_STATUS = {Action.BLOCK: 403, Action.WARN: 403}
_SHOWN_URL_CHARS = 300
_CONTINUE_KINDS = ("blocked", "self_harm")
"""Pages that may offer a way on ("Continue anyway", "I am safe, continue"); never csam."""


class WarningPages:
    def __init__(self, services: Services) -> None:
        self._services = services

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        self._answer(flow)

    def request(self, flow: http.HTTPFlow) -> None:
        """Runs after policy judged a body search on its text; other flows were answered (or
        let through) at `requestheaders`."""
        if decided_on_body(flow):
            self._answer(flow)

    def _answer(self, flow: http.HTTPFlow) -> None:
        """A warning page for a block or warn verdict not answered yet."""
        verdict = verdict_of(flow)
        if verdict is None or verdict.action not in _STATUS or flow.response is not None:
            return
        compiled = self._services.policy.current
        profile = profile_of(flow, compiled)
        renderer = self._services.pages
        language = choose_language(
            flow.request.headers.get("accept-language"), profile.language, renderer.languages
        )
        continue_url = ""
        topic = page_topic(verdict)
        kind = page_kind_for(topic)
        if (
            verdict.action is Action.WARN
            and kind in _CONTINUE_KINDS
            and verdict.category is not None
            and allows_continue(compiled, verdict.category)
        ):
            continue_url = self._services.grants.continue_path(
                flow.request.path,
                profile.name,
                flow.request.host,
                verdict.category,
                self._services.clock(),
            )
        ask_action = ask_page = ask_state = ""
        if verdict.ask_parent and kind == "blocked":
            token = self._services.tokens.issue(
                TOKEN_PURPOSE,
                profile.name,
                form_target(flow.request),
                self._services.clock(),
                FORM_LIFETIME,
            )
            ask_action = f"{ASK_PATH}?{urlencode({'t': token})}"
            ask_page = flow.request.path.partition("?")[0]
            latest = self._services.access.latest(profile.name, host_key(flow.request.host))
            if latest is not None and latest.status is not RequestStatus.APPROVED:
                ask_state = str(latest.status)  # pending or denied
        context = PageContext(
            kind=kind,
            category=topic,
            action=str(verdict.action),
            url=request_url(flow.request, by_host_header=True)[:_SHOWN_URL_CHARS],
            query=verdict.query,
            ask_parent=verdict.ask_parent,
            continue_url=continue_url,
            ask_action=ask_action,
            ask_page=ask_page[:_SHOWN_URL_CHARS],
            ask_state=ask_state,
            opens=_opening(verdict, profile.schedule, self._services.clock()),
        )
        html = renderer.render(context, language, compiled.book.jurisdiction)
        respond_with_page(flow, _STATUS[verdict.action], html, language)


def _opening(verdict: Verdict, schedule: Schedule, now: dt.datetime) -> Opening | None:
    """For a page stopped by the schedule: when browsing is allowed again, so the child is
    told, not left guessing."""
    if verdict.reason is not Reason.SCHEDULE:
        return None
    moment = schedule.next_opening(now)
    return None if moment is None else Opening.at(moment, now)
