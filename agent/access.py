"""Access a parent granted on request, and the state of each child's request, kept in memory.

The proxy asks "is this host approved for this profile now?" on every blocked request, so the
answer must not touch the disk: the store is read once at start and again whenever a request is
made or decided, and the result is swapped in as one immutable view (readers never lock).
Expiry is checked against the agent's clock at each lookup, so an approval that runs out blocks
again at once without any refresh.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from abhaya.agent.store import Store
from abhaya.agent.store import access as stored
from abhaya.agent.store.access import AccessRequest, RequestStatus

Key = tuple[str, str]
"""(profile, domain)."""


@dataclass(frozen=True, slots=True)
class _View:
    latest: Mapping[Key, AccessRequest]


class AccessDesk:
    """Makes and decides access requests in the store and keeps the in-memory view current."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()  # one writer and refresh at a time; readers never lock
        self._view = _View(MappingProxyType({}))
        self.refresh()

    def refresh(self) -> None:
        """Read the newest request per profile and domain from the store."""
        with self._lock, contextlib.closing(self._store.connect(read_only=True)) as conn:
            rows = stored.latest_per_domain(conn)
        self._view = _View(MappingProxyType({(row.profile, row.domain): row for row in rows}))

    def latest(self, profile: str, domain: str) -> AccessRequest | None:
        """The child's newest request for this domain (pending, approved or denied)."""
        return self._view.latest.get((profile, domain))

    def approval(self, profile: str, domain: str, now: datetime) -> AccessRequest | None:
        """The approved request that lets this domain through now, if any."""
        request = self._view.latest.get((profile, domain))
        if request is None or request.status is not RequestStatus.APPROVED:
            return None
        if request.expires_at is not None and now >= request.expires_at:
            return None
        return request

    def list(self, status: RequestStatus | None) -> list[AccessRequest]:
        """Requests from the store, newest first (for the API; reads the disk)."""
        with contextlib.closing(self._store.connect(read_only=True)) as conn:
            return stored.list_requests(conn, status)

    def ask(self, profile: str, domain: str, url: str, reason: str, now: datetime) -> int:
        """Store a pending request; returns its id.  Blocks on the disk: not for the event loop."""
        with contextlib.closing(self._store.connect()) as conn:
            ident = stored.create_request(conn, profile, domain, url, reason, now)
        self.refresh()
        return ident

    def decide(
        self, request_id: int, status: RequestStatus, now: datetime, expires_at: datetime | None
    ) -> AccessRequest:
        with contextlib.closing(self._store.connect()) as conn:
            decided = stored.decide_request(conn, request_id, status, now, expires_at)
        self.refresh()
        return decided
