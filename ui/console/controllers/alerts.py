"""The Alerts page's logic: list the alerts, say what raised each, mark one as reviewed, and
save a known-image alert's evidence package for the police (controllers/evidence.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import Signal

from abhaya.client import contract
from abhaya.client.api import ClientError
from abhaya.client.evidence import ReportExists
from abhaya.ui.console.controllers.activity import shown_time
from abhaya.ui.console.controllers.base import Controller
from abhaya.ui.console.controllers.evidence import SavedEvidence, save_evidence, saved_words
from abhaya.ui.console.runner import Runner
from abhaya.ui.console.service import ConsoleService
from abhaya.ui.console.texts import Texts


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: int
    when: str
    severity: str
    child: str
    what: str
    reviewed: str
    acknowledged: bool
    detail: tuple[str, ...]
    event: int | None = None
    """The image event of a known-image alert: its evidence package can be saved."""


def describe_alert(
    alert: contract.AlertRecord, texts: Texts, zone: ZoneInfo | None
) -> tuple[str, ...]:
    """The alert in words; a chat alert adds where, which risk, the labels and the messages."""
    lines = [shown_time(alert["time"], zone), alert["message"]]
    chat = alert["chat"]
    if chat is not None:
        lines.append(texts("alerts.chat_where", site=chat["site"], thread=chat["thread"]))
        lines.append(texts("alerts.chat_risk", risk=texts.category(chat["risk"])))
        lines.append(texts("alerts.chat_labels", labels=", ".join(chat["labels"])))
        lines.append(texts("alerts.chat_messages"))
        for message in chat["messages"]:
            key = f"alerts.sender_{message['sender']}"
            sender = texts(key) if texts.has(key) else message["sender"]
            labels = f"  [{', '.join(message['labels'])}]" if message["labels"] else ""
            lines.append(f"{sender}: “{message['text']}”{labels}")
    return tuple(lines)


def alert_row(alert: contract.AlertRecord, texts: Texts, zone: ZoneInfo | None) -> AlertRow:
    severity_key = f"severity.{alert['severity']}"
    return AlertRow(
        id=alert["id"],
        when=shown_time(alert["time"], zone),
        severity=texts(severity_key) if texts.has(severity_key) else alert["severity"],
        child=alert["profile"],
        what=alert["message"],
        reviewed=texts("alerts.yes" if alert["acknowledged"] else "alerts.no"),
        acknowledged=alert["acknowledged"],
        detail=describe_alert(alert, texts, zone),
        event=alert["event"],
    )


class AlertsController(Controller):
    listed = Signal(object)
    """A tuple of AlertRow, newest first."""
    told = Signal(str)

    def __init__(self, service: ConsoleService, runner: Runner, texts: Texts) -> None:
        super().__init__(service, runner, texts)
        self.include_reviewed = False
        self.zone: ZoneInfo | None = None
        self.rows: tuple[AlertRow, ...] = ()

    def refresh(self) -> None:
        include = self.include_reviewed
        self._runner.submit(
            lambda: self._service.alerts(include_reviewed=include), self._show, self._refused
        )

    def set_include_reviewed(self, include: bool) -> None:
        self.include_reviewed = include
        self.refresh()

    def mark_reviewed(self, alert_id: int) -> None:
        self._runner.submit(
            lambda: self._service.mark_reviewed(alert_id), lambda _: self.refresh(), self._refused
        )

    def save_report(self, event_id: int, folder: str) -> None:
        """Write the evidence package of `event_id` into `folder` (the parent chose it)."""
        language = self._texts.language
        self.told.emit(self._texts("evidence.saving"))
        self._runner.submit(
            lambda: save_evidence(self._service, event_id, Path(folder), language),
            self._saved,
            self._not_saved,
        )

    def _saved(self, saved: SavedEvidence) -> None:
        self.told.emit(saved_words(saved, self._texts))

    def _not_saved(self, error: ClientError) -> None:
        if isinstance(error, ReportExists):
            self.told.emit(self._texts("evidence.exists", path=error.path))
        else:
            self.told.emit(self._texts("evidence.not_saved", reason=str(error)))

    def _show(self, answer: contract.AlertList) -> None:
        self.rows = tuple(alert_row(alert, self._texts, self.zone) for alert in answer["alerts"])
        self.listed.emit(self.rows)

    def _refused(self, error: ClientError) -> None:
        self.told.emit(self._texts("requests.refused", message=str(error)))
