"""The approvals desk: children's access requests and the approvals a parent gave, kept in
memory for the proxy.

The proxy asks "is this host approved for this profile now?" on every blocked request, so the
answer must not touch the disk: the store is read once at start and again whenever a request is
made or decided, and the result is swapped in as one immutable view (readers never lock).
Expiry of approvals is checked against the agent's clock at each lookup, so an approval that
runs out blocks again at once without any refresh.  An approval covers the exact host, or (the
default) the host's whole site: approving `www.bet365.com` lets `bet365.com` and
`sports.bet365.com` through too.  A child's new request raises an alert for the parent.

A request a parent has not answered within the policy's `[access] request_expiry_hours`
expires: the API shows it as expired and refuses to approve it, and the child's warning page
offers the form again instead of "waiting for a parent" forever.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

from abhaya.agent.clock import utc_now
from abhaya.agent.policy_state import PolicyState
from abhaya.agent.store import Store, driver
from abhaya.agent.store import access as stored
from abhaya.agent.store.access import AccessRequest, ApprovalScope, RequestStatus, covers
from abhaya.agent.store.alerts import Alert, AlertSeverity, insert_alert
from abhaya.filters.policy.model import AccessSettings
from abhaya.filters.suffixes import registrable_domain

Key = tuple[str, str]
"""(profile, domain) or (profile, site)."""

MAX_REQUEST_LIFETIME = timedelta(hours=AccessSettings.MAX_EXPIRY_HOURS)
"""No policy keeps a request pending longer; older ones never count towards the pending cap."""
ALERT_KIND = "access_request"
MAX_ALERT_REASON = 200


@dataclass(frozen=True, slots=True)
class _View:
    latest: Mapping[Key, AccessRequest]
    """The newest request per (profile, host)."""
    sites: Mapping[Key, tuple[AccessRequest, ...]]
    """Site-wide approvals per (profile, site), from the newest request of each host."""


def request_lifetime(policy: PolicyState) -> Callable[[], timedelta]:
    """How long a request may wait for a parent, read from the policy in force at each call
    (so a reload applies at once)."""
    return lambda: timedelta(hours=policy.current.policy.access.request_expiry_hours)


def _default_lifetime() -> timedelta:
    return timedelta(hours=AccessSettings().request_expiry_hours)


def _live(request: AccessRequest | None, now: datetime) -> bool:
    return (
        request is not None
        and request.status is RequestStatus.APPROVED
        and (request.expires_at is None or now < request.expires_at)
    )


class AccessDesk:
    """Makes and decides access requests in the store and keeps the in-memory view current."""

    def __init__(
        self,
        store: Store,
        lifetime: Callable[[], timedelta] = _default_lifetime,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """`lifetime()`: how long a request may wait (`request_lifetime(policy)`); `clock`:
        the agent's aware "now", for the page's view of a request (tests move it)."""
        self._store = store
        self.lifetime = lifetime
        self._clock = clock or utc_now
        self._lock = threading.Lock()  # one writer and refresh at a time; readers never lock
        self._view = _View(MappingProxyType({}), MappingProxyType({}))
        self.refresh()

    def refresh(self) -> None:
        """Read the newest request per profile and domain from the store."""
        with self._lock, contextlib.closing(self._store.connect(read_only=True)) as conn:
            rows = stored.latest_per_domain(conn)
        sites: dict[Key, list[AccessRequest]] = {}
        for row in rows:
            if row.status is RequestStatus.APPROVED and row.scope is ApprovalScope.SITE:
                sites.setdefault((row.profile, covers(row)), []).append(row)
        self._view = _View(
            MappingProxyType({(row.profile, row.domain): row for row in rows}),
            MappingProxyType({key: tuple(found) for key, found in sites.items()}),
        )

    def latest(self, profile: str, domain: str) -> AccessRequest | None:
        """The child's newest request for this domain (pending, approved or denied); None
        when there is none, or a pending one has expired (the child may ask again)."""
        request = self._view.latest.get((profile, domain))
        if (
            request is not None
            and request.status is RequestStatus.PENDING
            and request.time < self._clock() - self.lifetime()
        ):
            return None
        return request

    def approval(self, profile: str, host: str, now: datetime) -> AccessRequest | None:
        """The approved request that lets this host through now, if any: one for the host
        itself, or one for its site."""
        view = self._view
        exact = view.latest.get((profile, host))
        if _live(exact, now):
            return exact
        if not view.sites:
            return None
        for request in view.sites.get((profile, registrable_domain(host)), ()):
            if _live(request, now):
                return request
        return None

    def list(self, status: RequestStatus | None, now: datetime) -> list[AccessRequest]:
        """Requests from the store, newest first (for the API; reads the disk); pending ones
        older than the lifetime read as expired."""
        with contextlib.closing(self._store.connect(read_only=True)) as conn:
            return stored.list_requests(conn, status, expired_before=now - self.lifetime())

    def ask(self, profile: str, domain: str, url: str, reason: str, now: datetime) -> int:
        """Store a pending request and, for a new one, an alert for the parent; returns the
        request's id.  Blocks on the disk: not for the event loop."""
        with contextlib.closing(self._store.connect()) as conn:
            asked = stored.create_request(
                conn, profile, domain, url, reason, now, counted_since=now - MAX_REQUEST_LIFETIME
            )
            if asked.new:
                shown = (
                    reason if len(reason) <= MAX_ALERT_REASON else reason[:MAX_ALERT_REASON] + "…"
                )
                message = f"{profile} asks for {domain} (request {asked.id}): {shown}"
                with driver.transaction(conn):
                    insert_alert(conn, Alert(now, ALERT_KIND, AlertSeverity.INFO, message))
        self.refresh()
        return asked.id

    def decide(
        self,
        request_id: int,
        status: RequestStatus,
        now: datetime,
        expires_at: datetime | None,
        *,
        scope: ApprovalScope = ApprovalScope.SITE,
    ) -> AccessRequest:
        """Approve or deny; RequestExpiredError for approving an expired request."""
        with contextlib.closing(self._store.connect()) as conn:
            decided = stored.decide_request(
                conn,
                request_id,
                status,
                now,
                expires_at,
                scope=scope,
                expired_before=now - self.lifetime(),
            )
        self.refresh()
        return decided

    def end(
        self, site: str, profiles: frozenset[str] | None, now: datetime
    ) -> tuple[AccessRequest, ...]:
        """End at once every running approval that lets something of `site` through for
        `profiles` (None: every profile), as a parent blocking the site expects; returns
        them.  The view is swapped before this returns, so the proxy's next lookup blocks."""
        with contextlib.closing(self._store.connect()) as conn:
            ended = stored.end_approvals(conn, site, profiles, now)
        self.refresh()
        return tuple(ended)
