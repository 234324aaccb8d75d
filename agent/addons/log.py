"""Records every verdict that is not a plain allow, for parents to review.

Each one becomes an event in the encrypted store (through the writer thread, so the proxy never
waits on the disk) and a one-line entry in the agent's log.  URLs are stored without their
query string unless the policy's `[events] keep_query` asks for it; the agent log gets the
domain only, never the path or the search text.  A search sent in a request body is recorded
at `request`, once, with the verdict made on its text (see the policy addon).
"""

from __future__ import annotations

import logging

from mitmproxy import http

from abhaya.agent.addons.flowdata import (
    attribution_of,
    decided_on_body,
    profile_of,
    request_url,
    verdict_of,
)
from abhaya.agent.services import Services
from abhaya.agent.store import Event, EventKind, url_without_query
from abhaya.filters.verdict import Action

log = logging.getLogger("abhaya.verdicts")


class VerdictLog:
    def __init__(self, services: Services) -> None:
        self._services = services

    async def requestheaders(self, flow: http.HTTPFlow) -> None:
        """Runs after the pages addon answered (or let through) the request; the event names
        the process behind the connection, found off the event loop.  A flow decided on its
        body waits for `request`, so that it is recorded once, with its final verdict."""
        if not decided_on_body(flow):
            await self._record(flow)

    async def request(self, flow: http.HTTPFlow) -> None:
        if decided_on_body(flow):
            await self._record(flow)

    async def _record(self, flow: http.HTTPFlow) -> None:
        verdict = verdict_of(flow)
        if verdict is None:
            return
        if verdict.action is Action.ALLOW and verdict.override is None:
            return
        compiled = self._services.policy.current
        url = request_url(flow.request, by_host_header=True)
        host = flow.request.pretty_host
        who = attribution_of(flow)
        process = await who.process_name_off_loop()
        self._services.events.submit(
            Event(
                time=self._services.clock(),
                kind=EventKind.VERDICT,
                profile=profile_of(flow, compiled).name,
                category=str(verdict.category or ""),
                action=str(verdict.action),
                domain=host,
                url=url if compiled.policy.events.keep_query else url_without_query(url),
                rule=verdict.rule,
                detail=verdict.detail,
                reason=str(verdict.override.reason if verdict.override else verdict.reason),
                os_user=who.user,
                process=process,
            )
        )
        log.info(
            "%s %s %s %s (rule %s from %s)",
            verdict.action,
            verdict.reason,
            verdict.category or "-",
            host,
            verdict.rule,
            verdict.source,
        )
