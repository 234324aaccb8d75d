"""Reports every verdict that is not a plain allow.

For now the report goes to the agent's log; the encrypted event store takes these verdicts
over when it exists.  Only the domain is logged here, never the path or the search text, so
the console log holds nothing a child would not want read aloud.
"""

from __future__ import annotations

import logging

from mitmproxy import http

from abhaya.agent.addons.flowdata import verdict_of
from abhaya.filters.verdict import Action

log = logging.getLogger("abhaya.verdicts")


class VerdictLog:
    def requestheaders(self, flow: http.HTTPFlow) -> None:
        verdict = verdict_of(flow)
        if verdict is None:
            return
        if verdict.action is Action.ALLOW and ("continued", "yes") not in verdict.details:
            return
        log.info(
            "%s %s %s (rule %s from %s)",
            verdict.action,
            verdict.category or "-",
            flow.request.pretty_host,
            verdict.rule,
            verdict.source,
        )
