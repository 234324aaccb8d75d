"""The Requests page's logic: the children's requests, approved for a while or denied.

"Until midnight" is the policy's midnight: the minutes are counted in its time zone when the
parent clicks, so a request approved at 23:50 gets 10 minutes, never a day.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from PySide6.QtCore import Signal

from abhaya.client import contract
from abhaya.client.api import ClientError
from abhaya.client.contract import parse_time
from abhaya.ui.console.controllers.activity import shown_time
from abhaya.ui.console.controllers.base import Controller
from abhaya.ui.console.runner import Runner
from abhaya.ui.console.service import ConsoleService
from abhaya.ui.console.texts import Texts


class Approval(StrEnum):
    MINUTES_15 = "15"
    HOUR = "60"
    TODAY = "today"
    ALWAYS = "always"


@dataclass(frozen=True, slots=True)
class RequestRow:
    id: int
    when: str
    child: str
    site: str
    reason: str
    status: str
    pending: bool
    """It can be approved."""
    deniable: bool
    """It can be denied (pending, or expired)."""


def minutes_for(choice: Approval, now: datetime, zone: ZoneInfo | None) -> int | None:
    """The approval's length in minutes (None: always); "today" ends at the zone's midnight."""
    if choice is Approval.ALWAYS:
        return None
    if choice is Approval.TODAY:
        local = now.astimezone(zone) if zone else now.astimezone(UTC)
        midnight = datetime.combine(local.date() + timedelta(days=1), time(), local.tzinfo)
        return max(1, math.ceil((midnight - local) / timedelta(minutes=1)))
    return int(choice.value)


def request_row(
    request: contract.AccessRequestRecord, texts: Texts, zone: ZoneInfo | None
) -> RequestRow:
    key = f"status.{request['status']}"
    return RequestRow(
        id=request["id"],
        when=shown_time(request["time"], zone),
        child=request["profile"],
        site=request["domain"],
        reason=request["reason"],
        status=texts(key) if texts.has(key) else request["status"],
        pending=request["status"] == "pending",
        deniable=request["status"] in ("pending", "expired"),
    )


class RequestsController(Controller):
    listed = Signal(object)
    """A tuple of RequestRow, as the agent lists them."""
    told = Signal(str)

    def __init__(
        self,
        service: ConsoleService,
        runner: Runner,
        texts: Texts,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(service, runner, texts)
        self._clock = clock
        self.include_answered = False
        self.zone: ZoneInfo | None = None
        self.rows: tuple[RequestRow, ...] = ()

    def refresh(self) -> None:
        include = self.include_answered
        self._runner.submit(
            lambda: self._service.requests(include_answered=include), self._show, self._refused
        )

    def set_include_answered(self, include: bool) -> None:
        self.include_answered = include
        self.refresh()

    def approve(self, request_id: int | None, choice: Approval) -> None:
        if request_id is None:
            self.told.emit(self._texts("requests.choose"))
            return
        minutes = minutes_for(choice, self._clock(), self.zone)
        self._runner.submit(
            lambda: self._service.approve(request_id, minutes), self._answered, self._refused
        )

    def deny(self, request_id: int | None) -> None:
        if request_id is None:
            self.told.emit(self._texts("requests.choose"))
            return
        self._runner.submit(lambda: self._service.deny(request_id), self._answered, self._refused)

    def _answered(self, record: contract.AccessRequestRecord) -> None:
        site = record["covers"] or record["domain"]
        if record["status"] == "denied":
            self.told.emit(self._texts("requests.denied", site=record["domain"]))
        elif record["expires_at"] is None:
            self.told.emit(
                self._texts("requests.approved_always", site=site, child=record["profile"])
            )
        else:
            until = parse_time(record["expires_at"])
            shown = (until.astimezone(self.zone) if self.zone else until).strftime("%H:%M")
            self.told.emit(
                self._texts("requests.approved", site=site, child=record["profile"], until=shown)
            )
        self.refresh()

    def _show(self, answer: contract.RequestList) -> None:
        self.rows = tuple(request_row(r, self._texts, self.zone) for r in answer["requests"])
        self.listed.emit(self.rows)

    def _refused(self, error: ClientError) -> None:
        self.told.emit(self._texts("requests.refused", message=str(error)))
