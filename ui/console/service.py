"""The console's one door to the agent: the typed API client, narrowed to what pages need.

The agent's address is read from `api.json` on every call, so a restarted agent (on a new port)
is found again without restarting the console; the session token is kept here and nowhere
else.  Calls block: they are made only by `runner.Runner`, on its worker threads, never on the
UI thread.  Every failure is a `ClientError` from the client, whose message can be shown.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from abhaya.client import contract
from abhaya.client.api import ApiClient
from abhaya.installer.checkfile import CHECKS_FILE, SavedChecks, read_checks
from abhaya.ui.console.report import MAX_EVENTS, STATS_DAYS, ReportInput

CALL_TIMEOUT_S = 10.0
"""Longer than any answer of a healthy agent; the banner shows well before (runner.SLOW_S)."""


@dataclass(frozen=True, slots=True)
class EventQuery:
    """What the Activity page asks for; empty values mean "any"."""

    kinds: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    text: str = ""


@dataclass(frozen=True, slots=True)
class Overview:
    """Everything the dashboard shows, fetched in one go so it is never half updated."""

    status: contract.Status
    stats: contract.Stats
    pending_requests: int
    machine: SavedChecks | None = None
    """The installed computer's last checks (`abhaya doctor --save`); None where Abhaya is
    not installed as a service (a development agent) or none were saved."""


@dataclass(frozen=True, slots=True)
class MachineStatus:
    """What the walk-through's last step checks: the agent's status (its CA in the system
    store, which accounts' browsing reached it) and the installed computer's saved checks."""

    status: contract.Status
    machine: SavedChecks | None


@dataclass(slots=True)
class ConsoleService:
    data_dir: Path
    timeout: float = CALL_TIMEOUT_S
    checks_file: Path = Path(str(CHECKS_FILE))
    _token: str | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def _client(self) -> ApiClient:
        client = ApiClient.for_data_dir(self.data_dir, self.timeout)
        with self._lock:
            client.token = self._token
        return client

    def _keep(self, client: ApiClient) -> None:
        with self._lock:
            self._token = client.token

    @property
    def signed_in(self) -> bool:
        with self._lock:
            return self._token is not None

    def forget_session(self) -> None:
        """After a 401: the token expired or the agent restarted; sign in again."""
        with self._lock:
            self._token = None

    def pin_is_set(self) -> bool:
        return self._client().pin_state()["set"]

    def login(self, pin: str) -> None:
        client = self._client()
        client.login(pin)
        self._keep(client)

    def set_first_pin(self, pin: str) -> None:
        """Set the PIN when none is set yet; the agent signs the console in with it."""
        client = self._client()
        client.set_pin(pin, None)
        self._keep(client)

    def overview(self, days: int = 7) -> Overview:
        client = self._client()
        return Overview(
            status=client.status(),
            stats=client.stats(days),
            pending_requests=len(client.requests("pending")["requests"]),
            machine=read_checks(self.checks_file),
        )

    def status(self) -> contract.Status:
        return self._client().status()

    def machine_status(self) -> MachineStatus:
        return MachineStatus(self._client().status(), read_checks(self.checks_file))

    def events(self, query: EventQuery, cursor: str | None, limit: int) -> contract.EventsPage:
        return self._client().events(
            since=query.since,
            until=query.until,
            kinds=query.kinds,
            categories=query.categories,
            reasons=query.reasons,
            profiles=query.profiles,
            text=query.text or None,
            limit=limit,
            cursor=cursor,
        )

    def alerts(self, *, include_reviewed: bool) -> contract.AlertList:
        return self._client().alerts(unacknowledged_only=not include_reviewed)

    def mark_reviewed(self, alert_id: int) -> contract.AlertRecord:
        return self._client().acknowledge(alert_id)

    def evidence_input(self, event_id: int) -> tuple[contract.EventRecord, contract.Status]:
        """What a known-image alert's evidence package is built from: its image event and the
        agent's status (the policy's time zone and jurisdiction)."""
        client = self._client()
        return client.event(event_id), client.status()

    def requests(self, *, include_answered: bool) -> contract.RequestList:
        return self._client().requests(None if include_answered else "pending")

    def approve(self, request_id: int, minutes: int | None) -> contract.AccessRequestRecord:
        """Approve for `minutes`, or always when None; the whole site, as the CLI does."""
        return self._client().approve(request_id, minutes=minutes, scope="site")

    def deny(self, request_id: int) -> contract.AccessRequestRecord:
        return self._client().deny(request_id)

    def policy(self) -> contract.PolicyText:
        """The policy file in force, as text, and whether the agent lets it be changed."""
        return self._client().policy()

    def apply_policy(self, text: str) -> contract.PolicyApplied:
        """Replace the policy; the agent validates it whole and refuses (422, 409) in words."""
        return self._client().apply_policy(text)

    def end_approvals(self, site: str, profiles: tuple[str, ...]) -> contract.ApprovalsEnded:
        """End the children's running approvals that let `site` through (a block must hold
        at once, and an approval beats the block list)."""
        return self._client().end_approvals(site, profiles)

    def report_input(self) -> ReportInput:
        """What the weekly report is made of: two weeks of counts, events and the alerts."""
        client = self._client()
        stats = client.stats(STATS_DAYS)
        events: list[contract.EventRecord] = []
        cursor: str | None = None
        while len(events) < MAX_EVENTS:
            page = client.events(
                since=stats["since"], until=stats["until"], limit=500, cursor=cursor
            )
            events.extend(page["events"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        return ReportInput(
            timezone=client.status()["policy"]["timezone"],
            stats=stats,
            week_stats=client.stats(7),
            events=tuple(events[:MAX_EVENTS]),
            events_complete=cursor is None,
            alerts=tuple(client.alerts(unacknowledged_only=False)["alerts"]),
        )

    def change_pin(self, old: str, new: str) -> None:
        """Change the parent PIN; the agent ends every session and signs this one in anew."""
        client = self._client()
        client.set_pin(new, old)
        self._keep(client)
