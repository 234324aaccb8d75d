"""What the addons leave on a flow for the addons after them."""

from __future__ import annotations

from mitmproxy import http

from abhaya.filters.verdict import Verdict

VERDICT_KEY = "abhaya.verdict"
"""`flow.metadata` key of the request's `Verdict`: written by policy, read by pages and log."""


def verdict_of(flow: http.HTTPFlow) -> Verdict | None:
    value = flow.metadata.get(VERDICT_KEY)
    return value if isinstance(value, Verdict) else None


def set_verdict(flow: http.HTTPFlow, verdict: Verdict) -> None:
    flow.metadata[VERDICT_KEY] = verdict
