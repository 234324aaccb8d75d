"""The Activity page's logic: the events table, fed page by page through the API's cursor.

`EventTableModel` holds only the rows fetched so far.  Qt asks `canFetchMore`/`fetchMore` as
the parent scrolls near the end; each ask sends one page request (PAGE_SIZE rows) off the UI
thread, and the answer is appended when it comes.  A million events therefore cost the rows
scrolled past, never a load of everything.  A new filter starts a new generation: answers to
an older filter that arrive late are dropped, never mixed in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from abhaya.client import contract
from abhaya.client.api import ClientError
from abhaya.client.contract import parse_time
from abhaya.filters.verdict import Category, Reason
from abhaya.ui.console.runner import Runner
from abhaya.ui.console.service import ConsoleService, EventQuery
from abhaya.ui.console.texts import Texts

PAGE_SIZE = 200
COLUMNS = ("time", "what", "site", "category_column", "action", "profile")

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True, slots=True)
class FilterInput:
    """What the parent chose in the filter row, as the view holds it ("" means any)."""

    kind: str = ""
    category: str = ""
    reason: str = ""
    profile: str = ""
    since: date | None = None
    until: date | None = None
    text: str = ""


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def build_query(chosen: FilterInput, zone: ZoneInfo | None) -> EventQuery:
    """Days are the policy zone's days: `until` includes the whole of its day."""

    def start_of(day: date) -> str:
        return datetime.combine(day, time(), tzinfo=zone).isoformat()

    return EventQuery(
        kinds=(chosen.kind,) if chosen.kind else (),
        categories=(chosen.category,) if chosen.category else (),
        reasons=(chosen.reason,) if chosen.reason else (),
        profiles=(chosen.profile,) if chosen.profile else (),
        since=start_of(chosen.since) if chosen.since else None,
        until=start_of(chosen.until + timedelta(days=1)) if chosen.until else None,
        text=chosen.text.strip(),
    )


def shown_time(text: str, zone: ZoneInfo | None) -> str:
    moment = parse_time(text)
    return (moment.astimezone(zone) if zone else moment).strftime("%Y-%m-%d %H:%M:%S")


def describe(
    event: contract.EventRecord, texts: Texts, zone: ZoneInfo | None
) -> list[tuple[str, str]]:
    """One event in plain words, as (label, value) lines; empty fields are left out."""
    lines = [
        (texts("activity.detail_when"), shown_time(event["time"], zone)),
        (texts("activity.detail_what"), _what(event, texts)),
        (texts("activity.detail_site"), event["domain"]),
        (texts("activity.detail_address"), event["url"]),
        (
            texts("activity.detail_category"),
            texts.category(event["category"]) if event["category"] else "",
        ),
        (texts("activity.detail_why"), texts.reason(event["reason"]) if event["reason"] else ""),
        (texts("activity.detail_rule"), event["rule"]),
        (texts("activity.detail_who"), event["profile"]),
        (texts("activity.detail_app"), event["app"] or event["process"]),
        (texts("activity.detail_note"), note(event["detail"])),
    ]
    return [(label, value) for label, value in lines if value]


def note(detail: str) -> str:
    """An event's detail as lines of words: a structured detail (an image event's evidence is
    JSON) becomes "name: value" lines of its plain fields, never raw JSON."""
    if not detail.startswith("{"):
        return detail
    try:
        record = json.loads(detail)
    except ValueError:
        return detail
    if not isinstance(record, dict):
        return detail
    return "\n".join(
        f"{str(name).replace('_', ' ')}: {value}"
        for name, value in record.items()
        if isinstance(value, str | int | float) and not isinstance(value, bool) and value != ""
    )


def _what(event: contract.EventRecord, texts: Texts) -> str:
    kind = texts.kind(event["kind"])
    return f"{kind}: {texts.action(event['action'])}" if event["action"] else kind


class EventTableModel(QAbstractTableModel):
    loading_changed = Signal(bool)
    failed = Signal(str)

    def __init__(self, service: ConsoleService, runner: Runner, texts: Texts) -> None:
        super().__init__()
        self._service = service
        self._runner = runner
        self._texts = texts
        self._rows: list[contract.EventRecord] = []
        self._query = EventQuery()
        self._cursor: str | None = None
        self._exhausted = True
        self._loading = False
        self._generation = 0
        self.zone: ZoneInfo | None = None

    # -- what Qt asks ------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> str | None:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self._texts(f"activity.{COLUMNS[section]}")
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> str | None:
        if role != Qt.ItemDataRole.DisplayRole or not index.isValid():
            return None
        event = self._rows[index.row()]
        column = COLUMNS[index.column()]
        if column == "time":
            return shown_time(event["time"], self.zone)
        if column == "what":
            return self._texts.kind(event["kind"])
        if column == "site":
            return event["domain"]
        if column == "category_column":
            return self._texts.category(event["category"]) if event["category"] else ""
        if column == "action":
            return self._texts.action(event["action"]) if event["action"] else ""
        return event["profile"]

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008, N802
        return not parent.isValid() and not self._exhausted and not self._loading

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008, N802
        if self.canFetchMore(parent):
            self._request()

    # -- what the controller asks -------------------------------------------------------------

    def event_at(self, row: int) -> contract.EventRecord | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    @property
    def loading(self) -> bool:
        return self._loading

    @property
    def exhausted(self) -> bool:
        return self._exhausted

    def reload(self, query: EventQuery) -> None:
        """Start again from the newest event with `query`."""
        self._generation += 1
        self.beginResetModel()
        self._rows = []
        self._query = query
        self._cursor = None
        self._exhausted = False
        self._loading = False
        self.endResetModel()
        self._request()

    def _request(self) -> None:
        generation, query, cursor = self._generation, self._query, self._cursor
        self._set_loading(True)
        self._runner.submit(
            lambda: self._service.events(query, cursor, PAGE_SIZE),
            lambda page: self._append(generation, page),
            lambda error: self._fail(generation, error),
        )

    def _append(self, generation: int, page: contract.EventsPage) -> None:
        if generation != self._generation:
            return
        events = page["events"]
        if events:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(events) - 1)
            self._rows.extend(events)
            self.endInsertRows()
        self._cursor = page["next_cursor"]
        self._exhausted = self._cursor is None
        self._set_loading(False)

    def _fail(self, generation: int, error: ClientError) -> None:
        if generation == self._generation:
            self._set_loading(False)
            self.failed.emit(str(error))

    def _set_loading(self, loading: bool) -> None:
        self._loading = loading
        self.loading_changed.emit(loading)


class ActivityController(QObject):
    """Turns the filter row into queries, rows into details, and the model's state into words."""

    detail = Signal(object)
    """A list of (label, value) lines for the chosen event."""
    chosen = Signal(object)
    """The chosen EventRecord, or None (for what the detail offers to do about it)."""
    footer = Signal(str)

    def __init__(self, service: ConsoleService, runner: Runner, texts: Texts) -> None:
        super().__init__()
        self._texts = texts
        self.model = EventTableModel(service, runner, texts)
        self.model.loading_changed.connect(self._footer)
        self.model.failed.connect(self.footer.emit)

    def kind_choices(self) -> list[tuple[str, str]]:
        return [("", self._texts("activity.any"))] + [
            (kind, self._texts.kind(kind)) for kind in contract.EVENT_KINDS
        ]

    def category_choices(self) -> list[tuple[str, str]]:
        return [("", self._texts("activity.any"))] + [
            (str(category), self._texts.category(category)) for category in Category
        ]

    def reason_choices(self) -> list[tuple[str, str]]:
        """Every reason a verdict can give, in the vocabulary's words."""
        return [("", self._texts("activity.any"))] + [
            (str(reason), self._texts.reason(reason)) for reason in Reason
        ]

    def profile_choices(self, names: tuple[str, ...]) -> list[tuple[str, str]]:
        """The policy's children; names are the parent's own, shown as they are."""
        return [("", self._texts("activity.any"))] + [(name, name) for name in names]

    def set_timezone(self, name: str) -> None:
        self.model.zone = _zone(name)

    def apply(self, chosen: FilterInput) -> None:
        self.detail.emit([])
        self.chosen.emit(None)
        self.model.reload(build_query(chosen, self.model.zone))

    def choose(self, row: int) -> None:
        event = self.model.event_at(row)
        self.detail.emit([] if event is None else describe(event, self._texts, self.model.zone))
        self.chosen.emit(event)

    def _footer(self, loading: bool) -> None:
        count = self.model.rowCount()
        if loading:
            self.footer.emit(self._texts("activity.loading"))
        elif count == 0:
            self.footer.emit(self._texts("activity.empty"))
        else:
            self.footer.emit(self._texts("activity.end", count=count))
