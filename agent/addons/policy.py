"""Decides every request with `filters.decide` and applies safe-search rewrites.

Decisions are made at `requestheaders`, the first moment the URL is known: a request whose body
is streamed goes upstream before the `request` hook, so deciding later could let a blocked
server see it.  The decision code is shared with `abhaya check`; this addon only translates
between mitmproxy flows and `filters` types.

A search sent in a request body (a `[[body]]` rule of `filters/data/search_engines.toml`:
YouTube's in-page search) is decided twice: by its address at `requestheaders`, and, when that
lets it through, again at `request` with the text read from the body, through the same
precedence and the same overrides.  A body that could be streamed past the `request` hook is
not waited for: such a request is blocked at `requestheaders` (`bodyread.cannot_wait_for`).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import replace
from urllib.parse import urlsplit

from mitmproxy import http, tls

from abhaya.agent import passedtunnels
from abhaya.agent.addons.bodyread import UnreadableBody, cannot_wait_for, read_body
from abhaya.agent.addons.closeclient import close_client
from abhaya.agent.addons.flowdata import (
    host_key,
    mark_decided_on_body,
    profile_of,
    request_url,
    set_verdict,
    verdict_of,
)
from abhaya.agent.grants import TOKEN_PARAM
from abhaya.agent.passedtunnels import Tunnel
from abhaya.agent.services import Services
from abhaya.filters.decide import decide
from abhaya.filters.inspect import Inspection, InspectReason, inspection
from abhaya.filters.policy.compile import CompiledPolicy, ProfileRules
from abhaya.filters.search import (
    MAX_BODY_QUERY_CHARS,
    BodyRule,
    SearchQuery,
    body_search_rule,
    extract_body_query,
)
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

_BODY_RULE = "abhaya.policy.body_rule"
"""`flow.metadata` key: the `BodyRule` whose search this request's body holds, left at
`requestheaders` for `request` (this addon's own)."""
_JUDGED = "abhaya.policy.judged"
"""`flow.metadata` key: (the compiled policy, `time.monotonic()`) an open WebSocket was last
decided with (`websocket_message`)."""

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
        """Decrypt the connection only where something must look inside (`filters.inspect`).

        Runs once per TLS connection a client starts inside a CONNECT tunnel, before any
        certificate is made.  A connection passed through talks to its real server end to end
        (the child's browser sees the site's own certificate); it was judged by its name, so a
        blocked or warned name is always decrypted to show its page.  Any failure decrypts:
        what is decrypted is still decided request by request.  Counted per reason in
        `Services.inspection`.
        """
        choice = self._inspection(data)
        self._services.inspection[choice.reason] += 1
        if not choice.inspected:
            data.ignore_connection = True

    def _inspection(self, data: tls.ClientHelloData) -> Inspection:
        tunnel = tunnel_of(self._services, data)
        return connection_inspection(self._services, tunnel.name, tunnel.target, tunnel.user)

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
        verdict = self._decide_both(request, profile, now)
        verdict = self._overrides(verdict, compiled, profile, request, now)
        if not verdict.stops:
            verdict = self._expect_body(flow, verdict)
        set_verdict(flow, verdict)
        if verdict.action is Action.REWRITE and verdict.rewrite is not None:
            query = urlsplit(verdict.rewrite.url).query
            request.path = request.path.partition("?")[0] + (f"?{query}" if query else "")
            for name, value in verdict.rewrite.set_headers:
                request.headers[name] = value

    def request(self, flow: http.HTTPFlow) -> None:
        """Decide a body search again with its text, now that the whole body has arrived.

        Runs before mitmproxy connects upstream.  Only for a request `requestheaders` let
        through and marked as decided on its body (pages and log answer and record it at this
        hook); a verdict that stops it, after the same overrides as the address's, replaces
        the one made on the address.  A body with no search text in it leaves that verdict.
        """
        rule = flow.metadata.pop(_BODY_RULE, None)
        verdict = verdict_of(flow)
        if not isinstance(rule, BodyRule) or verdict is None or verdict.stops:
            return
        if flow.response is not None:
            return
        request = flow.request
        try:
            search = extract_body_query(rule, read_body(request))
        except UnreadableBody as err:
            set_verdict(flow, _unread(rule, f"the {rule.name} search body {err}"))
            return
        if search is None:
            return
        if search.clipped:
            detail = f"the {rule.name} search is longer than {MAX_BODY_QUERY_CHARS} characters"
            set_verdict(flow, _too_large(rule, detail))
            return
        compiled = self._services.policy.current
        profile = profile_of(flow, compiled)
        now = self._services.clock()
        judged = self._decide_both(request, profile, now, search)
        judged = self._overrides(judged, compiled, profile, request, now)
        if judged.stops:
            set_verdict(flow, judged)

    def websocket_message(self, flow: http.HTTPFlow) -> None:
        """Decide an open WebSocket's handshake again, and close it once that would be stopped.

        A WebSocket outlives the decision on its handshake: a chat or a game left open all
        evening.  Its messages pass only while its handshake request still would, with the
        same overrides: it is decided again at the first message after a new policy, and
        otherwise at most every `passedtunnels.RECHECK_SECONDS` (the allowed hours end with
        the clock).  Once the site is blocked, outside the allowed hours or past its approval,
        the message is dropped and the connection closed; the browser's reconnection is
        decided as a new request and gets its page.  A decision that fails closes it too."""
        compiled = self._services.policy.current
        moment = time.monotonic()
        judged = flow.metadata.get(_JUDGED)
        if (
            judged is not None
            and judged[0] is compiled
            and moment - judged[1] < passedtunnels.RECHECK_SECONDS
        ):
            return
        flow.metadata[_JUDGED] = (compiled, moment)
        try:
            profile = profile_of(flow, compiled)
            now = self._services.clock()
            verdict = self._decide_both(flow.request, profile, now)
            stops = self._overrides(verdict, compiled, profile, flow.request, now).stops
        except Exception:  # noqa: BLE001 - undecided closes, never passes
            log.exception("an open WebSocket could not be decided again; closing it")
            stops = True
        if stops and flow.websocket is not None:
            flow.websocket.messages[-1].drop()
            close_client(flow.client_conn.id)

    def _decide_both(
        self,
        request: http.Request,
        profile: ProfileRules,
        now: dt.datetime,
        search: SearchQuery | None = None,
    ) -> Verdict:
        """The request decided by its target and, when the Host header names another site
        (domain fronting), by that too: the stricter verdict."""
        url = request_url(request)
        verdict = decide_or_block(url, profile, now, search)
        claimed = request_url(request, by_host_header=True)
        if claimed != url:
            other = decide_or_block(claimed, profile, now, search)
            if _SEVERITY[other.action] > _SEVERITY[verdict.action]:
                verdict = other
        return verdict

    def _overrides(
        self,
        verdict: Verdict,
        compiled: CompiledPolicy,
        profile: ProfileRules,
        request: http.Request,
        now: dt.datetime,
    ) -> Verdict:
        """A "continue anyway" grant for a warning, then a parent's approval or a pause."""
        if (
            verdict.action is Action.WARN
            and verdict.category is not None
            and allows_continue(compiled, verdict.category)
            and self._services.grants.granted(profile.name, request.host, verdict.category, now)
        ):
            verdict = overridden(verdict, Reason.CONTINUE, "continue", "continued past a warning")
        return self._override(verdict, profile.name, host_key(request.host), now)

    def _expect_body(self, flow: http.HTTPFlow, verdict: Verdict) -> Verdict:
        """For a body search, wait for the body (`request` decides again), or block a body
        that cannot be waited for: it would reach the site unread."""
        request = flow.request
        rule = body_search_rule(request.host, request.path, request.method)
        if rule is None and request.pretty_host != request.host:
            rule = body_search_rule(request.pretty_host, request.path, request.method)
        if rule is None:
            return verdict
        problem = cannot_wait_for(request)
        if problem is not None:
            return _too_large(rule, f"the {rule.name} search body {problem}: it cannot be checked")
        flow.metadata[_BODY_RULE] = rule
        mark_decided_on_body(flow)
        return verdict

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


def _too_large(rule: BodyRule, detail: str) -> Verdict:
    return Verdict(
        Action.BLOCK, Reason.LIMITS, detail=detail, rule=f"body:{rule.name}", source="policy"
    )


def _unread(rule: BodyRule, detail: str) -> Verdict:
    return Verdict(
        Action.BLOCK, Reason.ERROR, detail=detail, rule=f"body:{rule.name}", source="policy"
    )


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


def tunnel_of(services: Services, data: tls.ClientHelloData) -> Tunnel:
    """What a TLS connection in a CONNECT tunnel is decided on: its server name, the CONNECT's
    host and the account that opened it."""
    address = data.context.server.address
    user = services.who.of(data.context.client.id).user
    return Tunnel(data.client_hello.sni, address[0] if address is not None else None, user)


def connection_inspection(
    services: Services, name: str | None, target: str | None, user: str
) -> Inspection:
    """Whether `user`'s connection to the server name `name` (its CONNECT host `target`) is
    decrypted: `filters.inspect.inspection` with the name's verdict for the user's profile
    now.  Shared by this addon and the tunnel relay (`agent.tunnels`), which decides a CONNECT
    before mitmproxy sees it.  Any failure decrypts."""
    try:
        compiled = services.policy.current
        profile = compiled.profile_for_user(user)
        verdict = (
            decide_or_block(f"https://{name}/", profile, services.clock())
            if name
            else error_verdict("no server name")
        )
        return inspection(name, target, profile, verdict)
    except Exception:  # noqa: BLE001 - a bug must decrypt, never pass a connection unread
        log.exception("the inspection decision failed; decrypting the connection")
        return Inspection(InspectReason.ERROR)


def decide_or_block(
    url: str, profile: ProfileRules, now: dt.datetime, search: SearchQuery | None = None
) -> Verdict:
    """`decide()`, failing closed: an unexpected error blocks rather than lets through."""
    try:
        return decide(RequestInfo(url, search=search), profile, now)
    except Exception:  # noqa: BLE001 - a bug must not turn into an open door
        log.exception("decision failed; blocking the request")
        return error_verdict("the request could not be checked")
