"""The alert calls: list the alerts (all, or those no parent has seen) and acknowledge one.

Alerts are the few things that need a parent's attention (the store was replaced, a child
asked for access); the console shows the unacknowledged ones until a parent marks them seen.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from typing import cast

from abhaya.agent.api.wire import ApiError, Request, Response, invalid, json_response
from abhaya.agent.chatalerts import chat_evidence
from abhaya.agent.imagealerts import alert_event
from abhaya.agent.store import driver
from abhaya.agent.store.alerts import StoredAlert, acknowledge_alert, list_alerts
from abhaya.client import contract

ALERTS_PREFIX = contract.ALERTS + "/"
_ACKNOWLEDGE = "acknowledge"


def alert_record(item: StoredAlert) -> contract.AlertRecord:
    alert = item.alert
    return {
        "id": item.id,
        "time": alert.time.isoformat(),
        "kind": alert.kind,
        "severity": cast(contract.Severity, str(alert.severity)),
        "message": alert.message,
        "acknowledged": alert.acknowledged,
        "profile": alert.profile,
        "chat": chat_evidence(item),
        "event": alert_event(item),
    }


class AlertCalls:
    def __init__(self, connect: Callable[..., sqlite3.Connection]) -> None:
        """`connect(read_only=...)`: a new store connection (each call opens its own)."""
        self._connect = connect

    def list(self, request: Request) -> Response:
        request.only_params(("unacknowledged",))
        flag = request.param("unacknowledged")
        if flag not in (None, "true", "false"):
            raise invalid("unacknowledged", "expected true or false")
        with contextlib.closing(self._connect(read_only=True)) as conn:
            items = list_alerts(conn, unacknowledged_only=flag == "true")
        answer: contract.AlertList = {"alerts": [alert_record(item) for item in items]}
        return json_response(answer)

    def acknowledge(self, request: Request) -> Response:
        """POST /v1/alerts/<id>/acknowledge; acknowledging twice is not an error."""
        ident_text, _, verb = request.path.removeprefix(ALERTS_PREFIX).partition("/")
        if verb != _ACKNOWLEDGE or not (
            ident_text.isascii() and ident_text.isdigit() and len(ident_text) <= 18
        ):
            raise ApiError(404, f"no such call: {request.path}")
        if request.method != "POST":
            raise ApiError(405, f"{request.path} accepts POST", headers=(("Allow", "POST"),))
        if request.body.strip() and request.json_object():
            raise invalid(next(iter(request.json_object())), "unknown field; expected none")
        ident = int(ident_text)
        with contextlib.closing(self._connect()) as conn:
            with driver.transaction(conn):
                found = acknowledge_alert(conn, ident)
            items = [item for item in list_alerts(conn) if item.id == ident] if found else []
        if not items:
            raise ApiError(404, f"no alert with id {ident}")
        return json_response(alert_record(items[0]))
