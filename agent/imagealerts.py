"""The alert a known-image match raises: the one image event a parent must act on.

A flagged image is blurred and recorded; that is history.  An image that matches a known-image
hash list (abuse material, by the list's own account) needs a parent, and possibly the
authorities: the alert says so in plain words, names the event to build the evidence package
from (`abhaya report EVENT_ID`, or the console's button, which reads the id from the alert's
detail: `alert_event`), and carries no image, only what the event already holds.
"""

from __future__ import annotations

import json

from abhaya.agent.store import Event, EventKind
from abhaya.agent.store.alerts import Alert, AlertSeverity, StoredAlert
from abhaya.filters.verdict import Reason

IMAGE_MATCH_ALERT = "image_match"


def image_alert(event_id: int, event: Event) -> Alert | None:
    """A critical alert for a known-image match; None for every other event.

    The detail is `{"event": id, "image": <the event's ImageEvidence object>}`; an event
    detail that is not JSON (never written by the proxy) leaves `image` null rather than
    costing the alert."""
    if event.kind is not EventKind.IMAGE or event.reason != Reason.HASH_MATCH:
        return None
    try:
        image: object = json.loads(event.detail)
    except ValueError:
        image = None
    return Alert(
        time=event.time,
        kind=IMAGE_MATCH_ALERT,
        severity=AlertSeverity.CRITICAL,
        message=(
            f"An image on {event.domain or 'a website'} matched the known-image list "
            f"{event.rule!r} and was blocked. No copy of it was kept. To report it, run "
            f"`abhaya report {event_id}`: it prepares the evidence and says where to file it."
        ),
        profile=event.profile,
        detail=json.dumps({"event": event_id, "image": image}, separators=(",", ":")),
    )


def alert_event(item: StoredAlert) -> int | None:
    """The image event behind a known-image alert, for its evidence package; None for other
    alerts, and for one whose detail does not name its event (written before it did)."""
    if item.alert.kind != IMAGE_MATCH_ALERT or not item.alert.detail:
        return None
    try:
        event = json.loads(item.alert.detail).get("event")
    except (ValueError, AttributeError):
        return None
    return event if isinstance(event, int) and not isinstance(event, bool) else None
