"""The control API's contract: its version, its paths and the JSON shape of every call.

The server (`abhaya.agent.api`) builds its answers as these TypedDicts, so mypy checks each
field it sends; clients read them as the same types; the tests compare real answers with them.
Field names are versioned with the paths: within /v1/ a field may be added (clients ignore
fields they do not know) but never renamed, removed or given another type; that needs /v2/.

Times are ISO 8601 strings in UTC (`2026-11-30T12:30:00+00:00`); a client shows them in the
policy's time zone, which `Status.policy.timezone` names.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Literal, NotRequired, TypedDict

API_VERSION = 1
PREFIX = f"/v{API_VERSION}"

LOGIN = f"{PREFIX}/login"
LOGOUT = f"{PREFIX}/logout"
PIN = f"{PREFIX}/pin"
STATUS = f"{PREFIX}/status"
EVENTS = f"{PREFIX}/events"
"""GET lists (EventsPage); GET `EVENTS/<id>` reads one event (EventRecord), 404 if none."""
STATS = f"{PREFIX}/stats"
EXPORT = f"{PREFIX}/export"
PAUSE = f"{PREFIX}/pause"
RESUME = f"{PREFIX}/resume"
POLICY = f"{PREFIX}/policy"
REQUESTS = f"{PREFIX}/requests"
"""GET lists; POST `REQUESTS/<id>/approve` (ApproveBody) or `REQUESTS/<id>/deny` decides."""
APPROVALS_END = f"{PREFIX}/approvals/end"
"""POST (EndApprovalsBody): end at once the running approvals that let a site through
(ApprovalsEnded), as blocking the site means."""
ALERTS = f"{PREFIX}/alerts"
"""GET lists (`?unacknowledged=true` for those a parent has not seen); POST
`ALERTS/<id>/acknowledge` marks one as seen."""

EVENT_KINDS = (
    "verdict",
    "tamper",
    "pin_failed",
    "dropped_events",
    "access_request",
    "access_decision",
    "protection",
    "app",
    "fault",
    "image",
)
"""Every `EventRecord.kind` (the store's EventKind), for clients that filter on kind."""

PIN_RULE = "a PIN is 4 to 12 digits (0-9)"
"""What a PIN must be; the server enforces it, clients say it when they ask for a new one."""

RequestStatus = Literal["pending", "approved", "denied", "expired"]
"""`expired`: a pending request older than the policy's `[access] request_expiry_hours`; it can
be denied but no longer approved."""
Scope = Literal["site", "host"]
"""What an approval covers: the requested host's whole site (its registrable domain, so
`www.bet365.com` approves `bet365.com` and `sports.bet365.com`), or that exact host."""
Severity = Literal["info", "warning", "critical"]
ExportFormat = Literal["csv", "json"]


class ErrorAnswer(TypedDict):
    """Every 4xx/5xx answer; `field` names the input at fault (422)."""

    error: str
    field: NotRequired[str]


class LoginBody(TypedDict):
    pin: str


class Token(TypedDict):
    """A session: send `Authorization: Bearer <token>` until `expires`."""

    token: str
    expires: str


class PinState(TypedDict):
    set: bool


class PinBody(TypedDict):
    new: str
    old: NotRequired[str]


class Ok(TypedDict):
    ok: bool


class EventRecord(TypedDict):
    id: int
    time: str
    kind: str
    profile: str
    category: str
    action: str
    domain: str
    url: str
    rule: str
    app: str
    detail: str
    reason: str
    os_user: str
    process: str


class EventsPage(TypedDict):
    events: list[EventRecord]
    next_cursor: str | None
    """Pass as `cursor` for the next (older) page; None on the last page."""


class ChatMessageRecord(TypedDict):
    time: str
    sender: str
    """"child" (sent from this computer), "contact" (someone else), or "unknown"."""
    text: str
    labels: list[str]
    """What the message model found in it (see the chat README's labels)."""


class ChatEvidence(TypedDict):
    """What raised a chat alert: where, which risk, and the flagged messages of the thread."""

    site: str
    thread: str
    risk: str
    """grooming, sextortion, bullying or self_harm."""
    labels: list[str]
    messages: list[ChatMessageRecord]


class AlertRecord(TypedDict):
    id: int
    time: str
    kind: str
    severity: Severity
    message: str
    acknowledged: bool
    profile: str
    """The child it is about; empty for the machine as a whole."""
    chat: ChatEvidence | None
    """For a chat alert (kind "chat"), what raised it."""
    event: int | None
    """For a known-image alert (kind "image_match"), the image event behind it: its evidence
    package is built from `GET /v1/events/<event>`."""


class AlertList(TypedDict):
    alerts: list[AlertRecord]


class PolicySummary(TypedDict):
    source: str
    profile: str
    timezone: str
    """The policy's IANA time zone: clients show times in it."""
    jurisdiction: str
    """The policy's jurisdiction pack (`in`, `intl`, ...): where to report, which law applies."""


class StoreSummary(TypedDict):
    path: str
    key_mode: str
    key_note: str
    replaced_at_start: str | None
    dropped_events: int
    failed_events: int
    writer_running: bool
    """The event writer's thread runs (False only on the way to a stop)."""
    writer_restarts: int
    """Times the event writer recovered from an unexpected error since start."""
    writer_last_error: str | None
    security_problem: str | None
    """Why the PIN and security settings were refused at start (damaged or missing), or None."""


class Today(TypedDict):
    """Counts since midnight in the policy's time zone."""

    total: int
    by_kind: dict[str, int]
    by_action: dict[str, int]


class ModelsSummary(TypedDict):
    """The on-device models in use: a version, or None when the policy turns one off."""

    search: str | None
    chat: str | None
    image: str | None


class ImageSummary(TypedDict):
    """Image screening since the agent started (see `abhaya.agent.imagescreen`)."""

    screened: int
    """Images of inspected pages that were checked (or found uncheckable)."""
    flagged: int
    """Images the classifier flagged (blurred, blocked or logged, as the profile says)."""
    matched: int
    """Images that matched a known-image hash list."""
    unscannable: int
    """Images that could not be checked (broken, too large, too slow, no model)."""


class ChatSummary(TypedDict):
    """The chat watch since the agent started (see `abhaya.agent.chatwatch`)."""

    running: bool
    read: int
    """Chat messages the proxy read on chat sites."""
    skipped: int
    """Inputs on chat sites that held no readable message (not JSON, too large, ...)."""
    reader_faults: int
    """Errors of the chat reader itself (a bug: the chat went on, unread)."""
    checked: int
    """Chat messages checked by the model (a server's echo of the child's own is not)."""
    alerts: int
    dropped: int
    """Messages not checked: the checker was busy."""
    failed: int
    """Messages not checked: the model or the store failed on them."""
    last_error: str | None


class ConnectionSummary(TypedDict):
    """Encrypted (TLS) connections since the agent started, by whether they were looked inside
    (`[inspect]` in the policy; see `abhaya.filters.inspect`)."""

    inspected: int
    """Decrypted: searches, pages, images and chats on them were checked."""
    passed_through: int
    """Not decrypted: filtered by the site's name only."""
    by_reason: dict[str, int]
    """Both counts split by why (`InspectReason`: search, images, not_needed, never, ...)."""
    passed_through_open: int
    """Connections passed through that are open now (judged again while open)."""
    closed_when_rules_changed: int
    """Connections passed through that were closed since the agent started because a new
    policy or the hour (a schedule's allowed hours ending) would now decrypt them
    (`agent.passedtunnels`)."""
    last_seen_by_user: dict[str, str]
    """OS account -> when a connection of that account last reached the proxy (ISO time, since
    the agent started): whether a child's browsing goes through Abhaya at all."""


class CaStatus(TypedDict):
    """The agent's CA and whether the system's trust store holds it (`agent.catrust`).

    Only the system bundle is checked here (the agent's account can read it); each account's
    browser stores are checked by `sudo abhaya doctor --save` (the console reads its results)."""

    fingerprint_sha256: str
    trust_store: str
    """The bundle file that was read (OpenSSL's default on this system)."""
    system_trusted: bool | None
    """None: there is no such file here, so it could not be told (not Debian-like Linux)."""


class Status(TypedDict):
    api_version: int
    protection: Literal["on", "paused"]
    paused_until: str | None
    policy: PolicySummary
    store: StoreSummary
    today: Today
    last_tamper: EventRecord | None
    last_alert: AlertRecord | None
    unacknowledged_alerts: int
    models: ModelsSummary
    chat: ChatSummary | None
    """None when no profile's chats are watched."""
    images: ImageSummary | None
    """None when the agent does not look at images."""
    connections: ConnectionSummary
    ca: CaStatus


class DayCount(TypedDict):
    day: str
    category: str
    count: int


class NameCount(TypedDict):
    name: str
    count: int


class Stats(TypedDict):
    since: str
    until: str
    utc_offset_minutes: int
    per_day: list[DayCount]
    top_domains: list[NameCount]
    top_apps: list[NameCount]


class PauseBody(TypedDict):
    minutes: int


class PauseState(TypedDict):
    paused: bool
    until: str | None


class PolicyText(TypedDict):
    source: str
    text: str
    editable: bool
    """False when the agent runs the embedded default policy (PUT is refused with 409)."""


class PolicyBody(TypedDict):
    text: str


class PolicyApplied(TypedDict):
    applied: bool
    source: str
    skipped_lines: int
    notices: list[str]
    """What the parent should know about the lists, e.g. entries narrowed to one host."""


class AccessRequestRecord(TypedDict):
    id: int
    time: str
    """When the child (last) asked."""
    profile: str
    domain: str
    """The host the child asked for."""
    url: str
    reason: str
    """The child's own words."""
    status: RequestStatus
    answer_by: str | None
    """For a pending or expired request: when it expires (or expired)."""
    decided_at: str | None
    expires_at: str | None
    """For an approval: when it ends; None means always."""
    scope: Scope | None
    """For an approval: what it covers; None otherwise."""
    covers: str | None
    """For an approval: the site or host it lets through; None otherwise."""


class RequestList(TypedDict):
    requests: list[AccessRequestRecord]


class ApproveBody(TypedDict):
    """`minutes` (1 to a week) or `always: true`; `scope` defaults to "site"."""

    minutes: NotRequired[int]
    always: NotRequired[bool]
    scope: NotRequired[Scope]


class EndApprovalsBody(TypedDict):
    """`site`: a host name; an approval ends when what it covers is the site or under it, or
    (a site-wide one) contains it.  `profiles`: the children whose approvals end; left out,
    every child's (also profiles no longer in the policy)."""

    site: str
    profiles: NotRequired[list[str]]


class ApprovalsEnded(TypedDict):
    site: str
    """The site as the agent read it (lower case, no trailing dot)."""
    ended: list[AccessRequestRecord]
    """The approvals ended now, each with `expires_at` now; empty when none was running."""


class TimeFormatError(ValueError):
    """Text that is not an ISO 8601 time, or one without the time zone that is required."""


def parse_time(text: str, *, assume_zone: tzinfo | None = None) -> datetime:
    """An ISO 8601 time (`2026-11-30T10:00:00+05:30`, `...Z`) as an aware datetime.

    Every time the API sends or takes, and every time the agent stores, is in this form.  A
    time written without a zone is refused, unless `assume_zone` says which zone it is in (the
    CLI reads what a person types as local time); TimeFormatError says which problem it was.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise TimeFormatError(f"not an ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None:
        if assume_zone is None:
            raise TimeFormatError(
                f"{text!r} has no time zone; write it as 2026-11-30T10:00:00+05:30 or ...Z"
            )
        moment = moment.replace(tzinfo=assume_zone)
    return moment
