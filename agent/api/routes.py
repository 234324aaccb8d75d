"""The calls of the control API under /v1/, each a small handler from Request to Response.

Every call needs a valid session token except logging in, asking whether a PIN is set, and
setting the very first PIN (there is nothing to log in with before it).  Reads use their own
read-only store connection per request (handler threads never share one); writes of events go
through the agent's EventWriter like every other event.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from abhaya.agent.api.alerts import ALERTS_PREFIX, AlertCalls, alert_record
from abhaya.agent.api.controls import REQUESTS_PREFIX, ParentControls
from abhaya.agent.api.export import csv_chunks, event_record, iter_events, json_chunks
from abhaya.agent.api.pin import (
    ParentPin,
    PinError,
    PinFormatError,
    PinLockedError,
    PinNotSetError,
    PinRequiredError,
    PinStoreError,
    WrongPinError,
)
from abhaya.agent.api.sessions import IssuedToken, SessionError, SessionStore
from abhaya.agent.api.wire import (
    ApiError,
    Request,
    Response,
    invalid,
    json_response,
    parse_int,
    parse_time,
)
from abhaya.agent.catrust import CaTrustCheck
from abhaya.agent.chatwatch import ChatWatch
from abhaya.agent.services import Services
from abhaya.agent.store import EventKind, Store, driver
from abhaya.agent.store.alerts import list_alerts
from abhaya.agent.store.queries import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    EventFilter,
    PageCursor,
    category_counts_by_day,
    counts_today,
    event_by_id,
    events_page,
    local_day_start,
    top_apps,
    top_domains,
)
from abhaya.client import contract
from abhaya.filters.inspect import Inspection, InspectReason

MAX_TEXT = 200
EVENTS_PREFIX = contract.EVENTS + "/"
MAX_STATS_DAYS = 366

Handler = Callable[[Request], Response]


@dataclass(frozen=True, slots=True)
class Route:
    handler: Handler
    needs_session: bool = True


class ControlApi:
    """Dispatches requests to the handlers; knows nothing about sockets."""

    def __init__(
        self,
        store: Store,
        services: Services,
        pin: ParentPin,
        sessions: SessionStore,
        chat: ChatWatch | None = None,
        *,
        ca: CaTrustCheck,
    ) -> None:
        """`chat`: the agent's chat watch, for the status; None when chats are not watched.
        `ca`: the check of the agent's CA in the system's trust store."""
        self._store = store
        self._ca = ca
        self._chat = chat
        self._services = services
        self._pin = pin
        self._sessions = sessions
        controls = ParentControls(services)
        alerts = AlertCalls(store.connect)
        self._routes: Mapping[str, Mapping[str, Route]] = {
            contract.LOGIN: {"POST": Route(self._login, needs_session=False)},
            contract.LOGOUT: {"POST": Route(self._logout)},
            # Setting the first PIN needs no session; the handler asks for one when a PIN is set.
            contract.PIN: {
                "GET": Route(self._pin_state, needs_session=False),
                "POST": Route(self._set_pin, needs_session=False),
            },
            contract.STATUS: {"GET": Route(self._status)},
            contract.EVENTS: {"GET": Route(self._events)},
            contract.STATS: {"GET": Route(self._stats)},
            contract.EXPORT: {"GET": Route(self._export)},
            contract.PAUSE: {"POST": Route(controls.pause)},
            contract.RESUME: {"POST": Route(controls.resume)},
            contract.POLICY: {
                "GET": Route(controls.get_policy),
                "PUT": Route(controls.put_policy),
            },
            contract.REQUESTS: {"GET": Route(controls.list_requests)},
            contract.APPROVALS_END: {"POST": Route(controls.end_approvals)},
            contract.ALERTS: {"GET": Route(alerts.list)},
        }
        # Calls on one item (/v1/requests/<id>/approve): the handler parses the id and verb.
        self._item_routes: tuple[tuple[str, Handler], ...] = (
            (REQUESTS_PREFIX, controls.decide_request),
            (ALERTS_PREFIX, alerts.acknowledge),
            (EVENTS_PREFIX, self._event),
        )

    def handle(self, request: Request) -> Response:
        """The response to `request`; ApiError for every refusal (the server renders it)."""
        methods = self._routes.get(request.path)
        for prefix, handler in self._item_routes if methods is None else ():
            if request.path.startswith(prefix):
                self._authorise(request)
                return handler(request)
        if methods is None:
            raise ApiError(404, f"no such call: {request.path}")
        route = methods.get(request.method)
        if route is None:
            allowed = ", ".join(sorted(methods))
            raise ApiError(405, f"{request.path} accepts {allowed}", headers=(("Allow", allowed),))
        if route.needs_session:
            self._authorise(request)
        return route.handler(request)

    # -- sessions and the PIN ---------------------------------------------------------------

    def _authorise(self, request: Request) -> None:
        token = request.bearer_token()
        if token is None:
            raise _unauthorised("log in first: send Authorization: Bearer <token>")
        try:
            self._sessions.check(token)
        except SessionError as error:
            raise _unauthorised(str(error)) from None

    def _login(self, request: Request) -> Response:
        body = _fields(request.json_object(), required=("pin",))
        with _pin_errors():
            self._pin.verify(body["pin"], "pin")
        return _token_response(self._sessions.create())

    def _logout(self, request: Request) -> Response:
        token = request.bearer_token()
        assert token is not None  # _authorise checked it
        self._sessions.revoke(token)
        answer: contract.Ok = {"ok": True}
        return json_response(answer)

    def _pin_state(self, request: Request) -> Response:
        request.only_params(())
        answer: contract.PinState = {"set": self._pin.is_set()}
        return json_response(answer)

    def _set_pin(self, request: Request) -> Response:
        """Set the first PIN (no session), or change it (session and the current PIN).

        Every session ends with a change; the caller gets a fresh one.
        """
        body = _fields(request.json_object(), required=("new",), optional=("old",))
        if self._pin.is_set():
            self._authorise(request)
            if "old" not in body:
                raise invalid("old", "a PIN is set; give the current PIN to change it")
        with _pin_errors():
            self._pin.change(body["new"], body.get("old"))
        self._sessions.revoke_all()
        return _token_response(self._sessions.create())

    # -- reading the store ------------------------------------------------------------------

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A read-only connection whose queries all see one snapshot of the store, so the parts
        of one answer agree while the writer commits (`driver.snapshot`)."""
        with contextlib.closing(self._store.connect(read_only=True)) as conn, driver.snapshot(conn):
            yield conn

    def _utc_offset(self, now: datetime) -> timedelta:
        """The policy's time zone offset now: "today" is the family's day, not the server's."""
        zone = ZoneInfo(self._services.policy.current.policy.timezone)
        return now.astimezone(zone).utcoffset() or timedelta(0)

    def _status(self, request: Request) -> Response:
        request.only_params(())
        now = self._services.clock()
        compiled = self._services.policy.current
        paused_until = self._services.pause.paused_until(now)
        with self._read() as conn:
            today = counts_today(conn, now, utc_offset=self._utc_offset(now))
            tamper = events_page(conn, EventFilter(kinds=(EventKind.TAMPER,)), limit=1).events
            alerts = list_alerts(conn)
        writer = self._services.events
        recovery = self._store.recovery
        query_model = compiled.book.query_model
        health = writer.health()
        answer: contract.Status = {
            "api_version": contract.API_VERSION,
            "protection": "on" if paused_until is None else "paused",
            "paused_until": None if paused_until is None else paused_until.isoformat(),
            "policy": {
                "source": compiled.source,
                "profile": compiled.profile().name,
                "timezone": compiled.policy.timezone,
                "jurisdiction": compiled.book.jurisdiction,
            },
            "store": {
                "path": str(self._store.path),
                "key_mode": str(self._store.key_mode),
                "key_note": self._store.key_mode.note,
                "replaced_at_start": None if recovery is None else recovery.reason,
                "dropped_events": health.dropped,
                "failed_events": health.failed,
                "writer_running": health.alive,
                "writer_restarts": health.restarts,
                "writer_last_error": health.last_error,
                "security_problem": self._store.security_problem,
            },
            "today": {
                "total": today.total,
                "by_kind": dict(today.by_kind),
                "by_action": dict(today.by_action),
            },
            "last_tamper": event_record(tamper[0]) if tamper else None,
            "last_alert": alert_record(alerts[0]) if alerts else None,
            "unacknowledged_alerts": sum(not item.alert.acknowledged for item in alerts),
            "models": {
                "search": query_model.scorer.version if query_model is not None else None,
                "chat": self._chat.version if self._chat is not None else None,
                "image": self._image_model(),
            },
            "chat": self._chat_summary(),
            "images": self._image_summary(),
            "connections": self._connection_summary(),
            "ca": self._ca.status(),
        }
        return json_response(answer)

    def _image_model(self) -> str | None:
        screener = self._services.images
        return (screener.model_version or None) if screener is not None else None

    def _image_summary(self) -> contract.ImageSummary | None:
        screener = self._services.images
        if screener is None:
            return None
        counts = dict(screener.counts)  # a copy: the proxy's loop counts on
        return {
            "screened": counts.get("screened", 0),
            "flagged": counts.get("flagged", 0),
            "matched": counts.get("matched", 0),
            "unscannable": sum(n for key, n in counts.items() if key.startswith("unscannable")),
        }

    def _connection_summary(self) -> contract.ConnectionSummary:
        counts = dict(self._services.inspection)  # a copy: the proxy's loop counts on
        passed = sum(
            n for reason, n in counts.items() if not Inspection(InspectReason(reason)).inspected
        )
        return {
            "inspected": sum(counts.values()) - passed,
            "passed_through": passed,
            "by_reason": {str(reason): n for reason, n in sorted(counts.items())},
            # Read from this thread without a lock: an int and a dict's length, each whole.
            "passed_through_open": len(self._services.passed),
            "closed_when_rules_changed": self._services.passed.closed,
            "last_seen_by_user": {
                user: moment.isoformat()
                for user, moment in sorted(self._services.who.last_seen().items())
            },
        }

    def _chat_summary(self) -> contract.ChatSummary | None:
        if self._chat is None:
            return None
        health = self._chat.health()
        reading = dict(self._services.chat_reading)  # a copy: the proxy's loop counts on
        return {
            "running": health.alive,
            "read": reading.get("messages", 0),
            "skipped": sum(n for key, n in reading.items() if key.startswith("skipped")),
            "reader_faults": sum(n for key, n in reading.items() if key.startswith("fault")),
            "checked": health.checked,
            "alerts": health.alerts,
            "dropped": health.dropped,
            "failed": health.failed,
            "last_error": health.last_error,
        }

    def _events(self, request: Request) -> Response:
        request.only_params(
            ("kind", "category", "reason", "profile", "since", "until", "text", "limit", "cursor")
        )
        where = _event_filter(request)
        limit = parse_int(request.param("limit"), "limit", 1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE)
        cursor_text = request.param("cursor")
        cursor = None
        if cursor_text is not None:
            try:
                cursor = PageCursor.parse(cursor_text)
            except ValueError:
                raise invalid("cursor", "not a cursor from a previous page") from None
        with self._read() as conn:
            page = events_page(conn, where, limit=limit, after=cursor)
        answer: contract.EventsPage = {
            "events": [event_record(item) for item in page.events],
            "next_cursor": None if page.next_cursor is None else page.next_cursor.token(),
        }
        return json_response(answer)

    def _event(self, request: Request) -> Response:
        """GET /v1/events/<id>: one event, for a report on it; 404 in words when there is none."""
        ident_text = request.path.removeprefix(EVENTS_PREFIX)
        if not (ident_text.isascii() and ident_text.isdigit() and len(ident_text) <= 18):
            raise ApiError(404, f"no such call: {request.path}")
        if request.method != "GET":
            raise ApiError(405, f"{request.path} accepts GET", headers=(("Allow", "GET"),))
        request.only_params(())
        ident = int(ident_text)
        with self._read() as conn:
            found = event_by_id(conn, ident)
        if found is None:
            raise ApiError(404, f"no event with id {ident} (never recorded, or past retention)")
        return json_response(event_record(found))

    def _stats(self, request: Request) -> Response:
        request.only_params(("days",))
        days = parse_int(request.param("days"), "days", 1, MAX_STATS_DAYS, 7)
        now = self._services.clock()
        offset = self._utc_offset(now)
        today_start = local_day_start(now, offset)
        since, until = today_start - timedelta(days=days - 1), today_start + timedelta(days=1)
        with self._read() as conn:
            per_day = category_counts_by_day(conn, since, until, utc_offset=offset)
            domains = top_domains(conn, since, until)
            apps = top_apps(conn, since, until)
        answer: contract.Stats = {
            "since": since.isoformat(),
            "until": until.isoformat(),
            "utc_offset_minutes": offset // timedelta(minutes=1),
            "per_day": [
                {"day": row.day.isoformat(), "category": row.category, "count": row.count}
                for row in per_day
            ],
            "top_domains": [{"name": row.name, "count": row.count} for row in domains],
            "top_apps": [{"name": row.name, "count": row.count} for row in apps],
        }
        return json_response(answer)

    def _export(self, request: Request) -> Response:
        request.only_params(("format", "since", "until"))
        kind = request.param("format")
        if kind not in ("csv", "json"):
            raise invalid("format", "expected csv or json")
        where = EventFilter(
            since=parse_time(request.param("since"), "since"),
            until=parse_time(request.param("until"), "until"),
        )
        events = iter_events(lambda: self._store.connect(read_only=True), where)
        disposition = ("Content-Disposition", f'attachment; filename="abhaya-events.{kind}"')
        if kind == "csv":
            return Response(200, csv_chunks(events), "text/csv; charset=utf-8", (disposition,))
        return Response(200, json_chunks(events), "application/json; charset=utf-8", (disposition,))


def _event_filter(request: Request) -> EventFilter:
    kinds: list[EventKind] = []
    for name in request.values("kind"):
        try:
            kinds.append(EventKind(name))
        except ValueError:
            raise invalid(
                "kind", f"unknown kind {name!r}; expected one of {[str(k) for k in EventKind]}"
            ) from None
    text = request.param("text") or ""
    if len(text) > MAX_TEXT:
        raise invalid("text", f"at most {MAX_TEXT} characters")
    return EventFilter(
        kinds=tuple(kinds),
        categories=request.values("category"),
        reasons=request.values("reason"),
        profiles=request.values("profile"),
        since=parse_time(request.param("since"), "since"),
        until=parse_time(request.param("until"), "until"),
        text=text,
    )


def _fields(
    body: dict[str, Any], required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, Any]:
    """`body` if it has every required field and nothing unknown; 422 naming the field."""
    for name in required:
        if name not in body:
            raise invalid(name, "required")
    for name in body:
        if name not in required and name not in optional:
            raise invalid(name, f"unknown field; expected {sorted((*required, *optional))}")
    return body


def _unauthorised(message: str) -> ApiError:
    return ApiError(401, message, headers=(("WWW-Authenticate", 'Bearer realm="abhaya"'),))


def _token_response(issued: IssuedToken) -> Response:
    answer: contract.Token = {"token": issued.token, "expires": issued.session.expires.isoformat()}
    return json_response(answer)


@contextlib.contextmanager
def _pin_errors() -> Iterator[None]:
    """Map PIN errors to HTTP answers (a wrong PIN is 401, a lock-out 429 with Retry-After)."""
    try:
        yield
    except PinFormatError as error:
        raise invalid(error.field, str(error).removeprefix(f"{error.field}: ")) from None
    except PinRequiredError as error:
        raise invalid("old", str(error).removeprefix("old: ")) from None
    except WrongPinError as error:
        raise _unauthorised(str(error)) from None
    except PinLockedError as error:
        raise ApiError(
            429, str(error), headers=(("Retry-After", str(error.retry_after)),)
        ) from None
    except PinNotSetError as error:
        raise ApiError(409, str(error)) from None
    except PinStoreError as error:
        raise ApiError(500, str(error)) from None
    except PinError as error:
        raise ApiError(400, str(error)) from None
