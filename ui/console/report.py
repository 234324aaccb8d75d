"""The weekly report's numbers and rows, made from the API's answers: pure, with no Qt.

A "week" is the seven days of the family's calendar ending today, in the policy's time zone (as
the dashboard's "last 7 days"), and "the week before" the seven days before those; the API's
`/v1/stats?days=14` counts both per day and category, and names the time zone's offset, which
this module uses for the events and alerts too, so every number is bucketed on the same days.
The page and the PDF lay out a `WeeklyReport`; the CSV is `csv_rows` of it, so what a parent
saves is what they saw.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TextIO

from abhaya.client import contract
from abhaya.client.contract import parse_time
from abhaya.ui.console.texts import Texts

WEEK_DAYS = 7
STATS_DAYS = 2 * WEEK_DAYS
TOP_SITES = 10
MAX_EVENTS = 50_000
"""How many events the report reads to count kinds; a busier fortnight is said to be cut."""


@dataclass(frozen=True, slots=True)
class ReportInput:
    """What the agent answered, fetched in one go (service.ConsoleService.report_input)."""

    timezone: str
    stats: contract.Stats
    """`/v1/stats?days=14`: both weeks' counts per day and category."""
    week_stats: contract.Stats
    """`/v1/stats?days=7`: this week's most blocked or warned sites."""
    events: tuple[contract.EventRecord, ...]
    """The fortnight's events, newest first (for the counts per kind)."""
    events_complete: bool
    alerts: tuple[contract.AlertRecord, ...]


@dataclass(frozen=True, slots=True)
class Line:
    """One counted thing, this week and the week before, already in words."""

    name: str
    this_week: int
    week_before: int

    @property
    def change(self) -> int:
        return self.this_week - self.week_before


@dataclass(frozen=True, slots=True)
class AlertLine:
    when: str
    severity: str
    child: str
    what: str


@dataclass(frozen=True, slots=True)
class WeeklyReport:
    timezone: str
    this_week: tuple[date, date]
    week_before: tuple[date, date]
    total: Line
    trend: str
    categories: tuple[Line, ...]
    kinds: tuple[Line, ...]
    top_sites: tuple[tuple[str, int], ...]
    alerts: tuple[AlertLine, ...]
    made: str
    """When it was made, in the policy's time zone."""
    complete: bool
    """False when there were more events than MAX_EVENTS: the kind counts are a lower bound."""

    def period(self, texts: Texts) -> str:
        first, last = self.this_week
        return texts("reports.period", first=first.isoformat(), last=last.isoformat())

    def before_period(self, texts: Texts) -> str:
        first, last = self.week_before
        return texts("reports.period", first=first.isoformat(), last=last.isoformat())


def _lines(
    this: Counter[str], before: Counter[str], label: Iterable[tuple[str, str]]
) -> list[Line]:
    lines = [Line(shown, this[name], before[name]) for name, shown in label]
    lines.sort(key=lambda line: (-line.this_week, -line.week_before, line.name))
    return [line for line in lines if line.this_week or line.week_before]


def trend_words(total: Line, texts: Texts) -> str:
    """The fortnight's trend in a sentence a parent reads at a glance."""
    if total.change == 0:
        return texts("reports.trend_same", count=total.this_week)
    if total.week_before == 0:
        return texts("reports.trend_new", count=total.this_week)
    percent = round(abs(total.change) * 100 / total.week_before)
    key = "reports.trend_up" if total.change > 0 else "reports.trend_down"
    return texts(key, count=total.this_week, before=total.week_before, percent=percent)


def build_report(data: ReportInput, texts: Texts, now: datetime) -> WeeklyReport:
    stats = data.stats
    offset = timedelta(minutes=stats["utc_offset_minutes"])
    today = parse_time(stats["until"]).astimezone(UTC) + offset - timedelta(days=1)
    last = today.date()
    this_first = last - timedelta(days=WEEK_DAYS - 1)
    before_first = this_first - timedelta(days=WEEK_DAYS)

    def week_of(day: date) -> int | None:
        """0 this week, 1 the week before, None outside the fortnight."""
        if this_first <= day <= last:
            return 0
        if before_first <= day < this_first:
            return 1
        return None

    def local_day(moment: str) -> date:
        return (parse_time(moment).astimezone(UTC) + offset).date()

    categories: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
    for row in stats["per_day"]:
        week = week_of(date.fromisoformat(row["day"]))
        if week is not None:
            categories[week][row["category"]] += row["count"]
    kinds: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
    for event in data.events:
        week = week_of(local_day(event["time"]))
        if week is not None:
            kinds[week][event["kind"]] += 1

    category_names = sorted(set(categories[0]) | set(categories[1]))
    kind_names = sorted(set(kinds[0]) | set(kinds[1]))
    total = Line(texts("reports.total"), sum(categories[0].values()), sum(categories[1].values()))
    alerts = [
        AlertLine(
            when=_shown(alert["time"], offset),
            severity=_severity(alert["severity"], texts),
            child=alert["profile"],
            what=alert["message"],
        )
        for alert in sorted(data.alerts, key=lambda alert: alert["time"], reverse=True)
        if week_of(local_day(alert["time"])) == 0
    ]
    return WeeklyReport(
        timezone=data.timezone,
        this_week=(this_first, last),
        week_before=(before_first, this_first - timedelta(days=1)),
        total=total,
        trend=trend_words(total, texts),
        categories=tuple(
            _lines(*categories, ((name, texts.category(name)) for name in category_names))
        ),
        kinds=tuple(_lines(*kinds, ((name, texts.kind(name)) for name in kind_names))),
        top_sites=tuple(
            (row["name"], row["count"]) for row in data.week_stats["top_domains"][:TOP_SITES]
        ),
        alerts=tuple(alerts),
        made=(now.astimezone(UTC) + offset).strftime("%Y-%m-%d %H:%M"),
        complete=data.events_complete,
    )


def _shown(moment: str, offset: timedelta) -> str:
    return (parse_time(moment).astimezone(UTC) + offset).strftime("%Y-%m-%d %H:%M")


def _severity(name: str, texts: Texts) -> str:
    key = f"severity.{name}"
    return texts(key) if texts.has(key) else name


def csv_rows(report: WeeklyReport, texts: Texts) -> list[list[str]]:
    """The report as a table: a header, then one row per counted thing, site and alert.

    Columns: section, name, this week, the week before, change, detail; a spreadsheet sorts
    and filters them by section.  Numbers are plain integers, so they add up in a sheet.
    """
    rows: list[list[str]] = [
        [texts(f"reports.csv_{key}") for key in ("section", "name", "this", "before", "change")]
        + [texts("reports.csv_detail")]
    ]
    period = f"{report.period(texts)} / {report.before_period(texts)} ({report.timezone})"
    rows.append([texts("reports.csv_period"), "", "", "", "", period])

    def counted(section: str, lines: Sequence[Line]) -> None:
        for line in lines:
            rows.append(
                [section, line.name, str(line.this_week), str(line.week_before)]
                + [f"{line.change:+d}", ""]
            )

    counted(texts("reports.csv_total"), [report.total])
    counted(texts("reports.csv_category"), report.categories)
    counted(texts("reports.csv_kind"), report.kinds)
    for site, count in report.top_sites:
        rows.append([texts("reports.csv_site"), site, str(count), "", "", ""])
    for alert in report.alerts:
        detail = f"{alert.when} · {alert.severity} · {alert.what}"
        rows.append([texts("reports.csv_alert"), alert.child, "", "", "", detail])
    return rows


def write_csv(report: WeeklyReport, texts: Texts, out: TextIO) -> None:
    """Write the CSV (UTF-8 with a BOM, so spreadsheet programs read Hindi correctly)."""
    out.write("\ufeff")
    csv.writer(out).writerows(csv_rows(report, texts))


def report_file_stem(report: WeeklyReport) -> str:
    return f"abhaya-week-{report.this_week[1].isoformat()}"
