"""The last step of the pipeline: whatever was not decided, not answered or met an error is
blocked with the fixed page before any byte goes upstream.

The addons before this one each do one job and trust the others to do theirs; this one trusts
none of them.  At every request hook it checks the flow as mitmproxy is about to send it:

- an Abhaya addon failed on it (`FailClosed` marked it) -> the fixed page;
- no verdict was made (the policy addon never ran, or ran and returned early) -> the fixed page;
- the verdict stops the request (block, warn) but no page answers it (neither a response nor
  a page kept by `early_answer` for a request whose body is still arriving) -> the fixed page;
- an allow or a safe-search rewrite goes on.

At the response hooks it checks that no addon failed while the response was inspected.  It
never raises: its own failure is caught by `FailClosed`, which blocks too.  Each
flow it turns into a block is recorded as an error event (best effort: the block does not
depend on the store).
"""

from __future__ import annotations

import logging

from mitmproxy import http

from abhaya.agent.addons.early_answer import kept_page
from abhaya.agent.addons.fixedpage import answer_with_fixed_page
from abhaya.agent.addons.flowdata import (
    attribution_of,
    failure_of,
    mark_failed,
    profile_of,
    request_url,
    set_verdict,
    verdict_of,
)
from abhaya.agent.services import Services
from abhaya.agent.store import Event, EventKind, url_without_query
from abhaya.filters.verdict import Verdict, error_verdict

log = logging.getLogger(__name__)

_ANSWERED = "abhaya.lastword"
"""`flow.metadata` mark: the last word already blocked this flow (record it once)."""


class LastWord:
    def __init__(self, services: Services) -> None:
        self._services = services

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        """Runs after every other addon's `requestheaders`, before a streamed body goes out."""
        self._check_request(flow, "requestheaders")

    def request(self, flow: http.HTTPFlow) -> None:
        """Runs after every other addon's `request`, before mitmproxy connects upstream."""
        self._check_request(flow, "request")

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        self._check_response(flow)

    def response(self, flow: http.HTTPFlow) -> None:
        self._check_response(flow)

    def _check_request(self, flow: http.HTTPFlow, hook: str) -> None:
        verdict = verdict_of(flow)
        failure = failure_of(flow)
        if failure is not None:
            self._block(flow, f"{failure} failed")
        elif verdict is None:
            mark_failed(flow, f"lastword.{hook}")
            self._block(flow, "no decision was made")
        elif verdict.stops and flow.response is None and kept_page(flow) is None:
            mark_failed(flow, f"lastword.{hook}")
            self._block(flow, f"the {verdict.action} was not answered with a page")

    def _check_response(self, flow: http.HTTPFlow) -> None:
        failure = failure_of(flow)
        if failure is not None:
            self._block(flow, f"{failure} failed")

    def _block(self, flow: http.HTTPFlow, why: str) -> None:
        answer_with_fixed_page(flow)
        if flow.metadata.get(_ANSWERED):
            return
        flow.metadata[_ANSWERED] = True
        verdict = error_verdict(f"blocked because {why}", source="lastword")
        previous = verdict_of(flow)
        set_verdict(flow, verdict)
        log.error("blocked %s: %s", flow.request.pretty_host, why)
        self._record(flow, verdict, previous)

    def _record(self, flow: http.HTTPFlow, verdict: Verdict, previous: Verdict | None) -> None:
        """The parent sees the block; failing to record it must not undo it."""
        try:
            services = self._services
            who = attribution_of(flow)
            services.events.submit(
                Event(
                    time=services.clock(),
                    kind=EventKind.VERDICT,
                    profile=profile_of(flow, services.policy.current).name,
                    os_user=who.user,
                    process=who.known_process_name(),
                    category="" if previous is None else str(previous.category or ""),
                    action=str(verdict.action),
                    domain=flow.request.pretty_host,
                    url=url_without_query(request_url(flow.request, by_host_header=True)),
                    rule=verdict.rule,
                    detail=verdict.detail,
                    reason=str(verdict.reason),
                )
            )
        except Exception:  # noqa: BLE001 - the block stands; the log says why the event is missing
            log.exception("the error block of %s could not be recorded", flow.request.pretty_host)
