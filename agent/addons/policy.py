"""Decides every request with `filters.decide` and applies safe-search rewrites.

Decisions are made at `requestheaders`, the first moment the URL is known: a request whose body
is streamed goes upstream before the `request` hook, so deciding later could let a blocked
server see it.  The decision code is shared with `abhaya check`; this addon only translates
between mitmproxy flows and `filters` types.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import replace
from urllib.parse import urlsplit

from mitmproxy import http, tls

from abhaya.agent.addons.flowdata import host_key, profile_of, request_url, set_verdict, verdict_of
from abhaya.agent.grants import TOKEN_PARAM
from abhaya.agent.services import Services
from abhaya.filters.decide import decide
from abhaya.filters.policy.compile import CompiledPolicy, ProfileRules
from abhaya.filters.verdict import (
    NEVER_OVERRIDDEN,
    Action,
    Category,
    Override,
    Reason,
    RequestInfo,
    Verdict,
    error_verdict,
)

log = logging.getLogger(__name__)

_SEVERITY = {
    Action.ALLOW: 0,
    Action.REWRITE: 1,
    Action.BLUR: 2,
    Action.WARN: 3,
    Action.BLOCK: 4,
}


class PolicyAddon:
    def __init__(self, services: Services) -> None:
        self._services = services

    def tls_clienthello(self, data: tls.ClientHelloData) -> None:
        """Leave TLS uninspected for pass-through domains, unless the domain itself is blocked.

        Runs when a client starts TLS inside a CONNECT tunnel.  Banking and health sites and
        certificate-pinned services then talk to their real server end to end; a blocked
        pass-through domain is still intercepted so the child sees a warning page.
        """
        host = data.client_hello.sni
        if not host:  # no name to match; intercept as usual
            return
        compiled = self._services.policy.current
        user = self._services.who.of(data.context.client.id).user
        profile = compiled.profile_for_user(user)
        if compiled.book.passthrough.match(host.lower().rstrip(".")) is None:
            return
        verdict = self._decide(f"https://{host}/", profile, self._services.clock())
        if verdict.action is Action.ALLOW:
            data.ignore_connection = True

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        """Decide the request; rewrite it for safe search; leave the verdict for later addons."""
        if verdict_of(flow) is not None:  # already refused by the limits addon
            return
        compiled = self._services.policy.current
        profile = profile_of(flow, compiled)
        request = flow.request
        now = self._services.clock()
        grants = self._services.grants
        if TOKEN_PARAM in request.path:
            cleaned = grants.redeem(request.path, profile.name, request.host, now)
            if cleaned is not None:
                request.path = cleaned
        url = request_url(request)
        verdict = self._decide(url, profile, now)
        # The Host header can name another site than the connection's target (domain
        # fronting); decide both and keep the stricter verdict.
        claimed = request_url(request, by_host_header=True)
        if claimed != url:
            other = self._decide(claimed, profile, now)
            if _SEVERITY[other.action] > _SEVERITY[verdict.action]:
                verdict = other
        if (
            verdict.action is Action.WARN
            and verdict.category is not None
            and allows_continue(compiled, verdict.category)
            and grants.granted(profile.name, request.host, verdict.category, now)
        ):
            verdict = overridden(verdict, Reason.CONTINUE, "continue", "continued past a warning")
        verdict = self._override(verdict, profile.name, host_key(request.host), now)
        set_verdict(flow, verdict)
        if verdict.action is Action.REWRITE and verdict.rewrite is not None:
            query = urlsplit(verdict.rewrite.url).query
            request.path = request.path.partition("?")[0] + (f"?{query}" if query else "")
            for name, value in verdict.rewrite.set_headers:
                request.headers[name] = value

    def _override(self, verdict: Verdict, profile: str, host: str, now: dt.datetime) -> Verdict:
        """A parent's approval for this host, or a pause, lets a stopped request through.

        Never for csam (zero tolerance) and never for a request that could not be checked
        (an invalid address, an error): see `overridable`.  The verdict keeps its category,
        reason and rule, and its `override` says why it became an allow, so the log addon
        records both for the parent.
        """
        if not overridable(verdict):
            return verdict
        approval = self._services.access.approval(profile, host, now)
        if approval is not None:
            return overridden(
                verdict,
                Reason.APPROVAL,
                str(approval.id),
                f"approved by a parent (request {approval.id})",
            )
        until = self._services.pause.paused_until(now)
        if until is not None:
            return overridden(
                verdict,
                Reason.PAUSE,
                until.isoformat(),
                f"protection paused until {until.isoformat()}",
            )
        return verdict

    def _decide(self, url: str, profile: ProfileRules, now: dt.datetime) -> Verdict:
        """`decide()`, failing closed: an unexpected error blocks rather than lets through."""
        try:
            return decide(RequestInfo(url), profile, now)
        except Exception:  # noqa: BLE001 - a bug must not turn into an open door
            log.exception("decision failed; blocking the request")
            return error_verdict("the request could not be checked")


def overridable(verdict: Verdict) -> bool:
    """Whether an approval, a pause or "continue anyway" may let this verdict through:
    only a block or warn of a category other than csam, for a request that was checked."""
    return verdict.stops and not verdict.zero_tolerance and verdict.reason not in NEVER_OVERRIDDEN


def overridden(verdict: Verdict, why: Reason, ref: str, sentence: str) -> Verdict:
    """`verdict` let through by the override `why` (its reference `ref`), saying so."""
    return replace(
        verdict,
        action=Action.ALLOW,
        detail=f"{sentence}: {verdict.detail}",
        override=Override(why, ref, verdict.action),
    )


def allows_continue(compiled: CompiledPolicy, category: Category | None) -> bool:
    """Whether the policy offers "continue anyway" on this category's warn page."""
    if category is None:
        return False
    rule = compiled.book.categories.get(category)
    return rule is not None and rule.allow_continue
