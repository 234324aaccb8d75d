"""The dashboard's logic: fetch the agent's overview now and then, and say what it means.

`summarise` is pure (an overview, the time and the words in; a `DashboardState` out) so what
counts as a problem is decided in one place and tested without widgets.  Refreshes never pile
up: while one is unanswered (a slow agent) the timer skips, and the banner speaks instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from PySide6.QtCore import QTimer, Signal

from abhaya.client.api import ClientError
from abhaya.client.contract import parse_time
from abhaya.ui.console.checknames import SYSTEM_TRUST, check_name
from abhaya.ui.console.controllers.base import Controller
from abhaya.ui.console.runner import Health, Runner
from abhaya.ui.console.service import ConsoleService, Overview
from abhaya.ui.console.texts import Texts

REFRESH_MS = 5000
RECENT_TAMPER = timedelta(days=7)
"""A tamper event this recent is shown as a problem until it ages out."""
STALE_CHECKS = timedelta(days=1)
"""Install checks older than this are themselves a problem: the timer that saves them runs
every 15 minutes, so they stopped being run."""
TOP_SITES = 10

Counts = tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class DashboardState:
    timezone: str
    """The policy's time zone, in which every page shows times."""
    protected: bool
    protection: str
    problems: tuple[str, ...]
    today: Counts
    week: Counts
    top_sites: Counts
    alerts: str
    requests: str


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _local(moment: datetime, zone: ZoneInfo | None) -> datetime:
    return moment.astimezone(zone) if zone is not None else moment


def _labelled(counts: Counter[str], texts: Texts) -> Counts:
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple((texts.category(name), count) for name, count in ordered if count > 0)


def summarise(overview: Overview, now: datetime, texts: Texts) -> DashboardState:
    status, stats = overview.status, overview.stats
    zone = _zone(status["policy"]["timezone"])
    protected = status["protection"] == "on"
    if protected or status["paused_until"] is None:
        protection = texts("dashboard.on")
    else:
        until = _local(parse_time(status["paused_until"]), zone)
        protection = texts("dashboard.paused", time=until.strftime("%H:%M"))

    problems: list[str] = []
    store = status["store"]
    if store["key_mode"] == "file":
        problems.append(texts("dashboard.key_file"))
    if store["security_problem"]:
        problems.append(texts("dashboard.store_problem", what=store["security_problem"]))
    if not store["writer_running"]:
        what = store["writer_last_error"] or "-"
        problems.append(texts("dashboard.store_problem", what=what))
    ca_untrusted = status["ca"]["system_trusted"] is False  # None: not known, said by no guess
    if ca_untrusted:
        problems.append(texts("walkthrough.dashboard_ca_not_trusted"))
    tamper = status["last_tamper"]
    if tamper is not None:
        when = parse_time(tamper["time"])
        if now - when <= RECENT_TAMPER:
            what = tamper["detail"] or tamper["rule"] or texts.kind(tamper["kind"])
            shown = _local(when, zone).strftime("%Y-%m-%d %H:%M")
            problems.append(texts("dashboard.tamper", time=shown, what=what))
    machine = overview.machine
    if machine is not None:
        for check in machine.problems:
            if ca_untrusted and check.name == SYSTEM_TRUST:
                continue  # said once, from the agent's own answer of now
            what = check_name(check.name, texts)
            problems.append(texts("dashboard.machine_problem", what=what, fix=check.fix))
        if now - machine.time > STALE_CHECKS:
            shown = _local(machine.time, zone).strftime("%Y-%m-%d %H:%M")
            problems.append(texts("dashboard.machine_stale", time=shown))

    offset = timedelta(minutes=stats["utc_offset_minutes"])
    today = (now.astimezone(UTC) + offset).date().isoformat()
    week: Counter[str] = Counter()
    today_counts: Counter[str] = Counter()
    for row in stats["per_day"]:
        week[row["category"]] += row["count"]
        if row["day"] == today:
            today_counts[row["category"]] += row["count"]
    return DashboardState(
        timezone=status["policy"]["timezone"],
        protected=protected,
        protection=protection,
        problems=tuple(problems),
        today=_labelled(today_counts, texts),
        week=_labelled(week, texts),
        top_sites=tuple((row["name"], row["count"]) for row in stats["top_domains"][:TOP_SITES]),
        alerts=texts("dashboard.alerts", count=status["unacknowledged_alerts"]),
        requests=texts("dashboard.requests", count=overview.pending_requests),
    )


class DashboardController(Controller):
    updated = Signal(object)
    """A DashboardState, ready to lay out."""

    def __init__(
        self,
        service: ConsoleService,
        runner: Runner,
        texts: Texts,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(service, runner, texts)
        self._clock = clock
        self._in_flight = False
        self.state: DashboardState | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        runner.health_changed.connect(self._on_health)

    def start(self) -> None:
        self.refresh()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def refresh(self) -> None:
        if self._in_flight or not self._service.signed_in:
            return
        self._in_flight = True
        self._runner.submit(self._service.overview, self._show, self._failed)

    def _show(self, overview: Overview) -> None:
        self._in_flight = False
        self.state = summarise(overview, self._clock(), self._texts)
        self.updated.emit(self.state)

    def _failed(self, _: ClientError) -> None:
        self._in_flight = False

    def _on_health(self, health: str) -> None:
        """While the agent does not answer, the last state is shown with that problem first."""
        if self.state is None or health == Health.OK:
            return
        unreachable = self._texts("dashboard.unreachable")
        if unreachable not in self.state.problems:
            problems = (unreachable, *self.state.problems)
            self.state = replace(self.state, problems=problems)
            self.updated.emit(self.state)
