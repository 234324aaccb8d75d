"""The weekly report's numbers and rows, from answers shaped as the API's (no Qt, no agent)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from abhaya.client import contract
from abhaya.ui.console.report import (
    Line,
    ReportInput,
    build_report,
    csv_rows,
    trend_words,
    write_csv,
)
from abhaya.ui.console.texts import Texts

EN = Texts("en")
NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)


def _event(ident: int, time: str, kind: str) -> contract.EventRecord:
    return {
        "id": ident, "time": time, "kind": kind, "profile": "child", "category": "adult",
        "action": "block", "domain": "adult.example", "url": "", "rule": "", "app": "",
        "detail": "", "reason": "", "os_user": "", "process": "",
    }  # fmt: skip


def _alert(ident: int, time: str, message: str) -> contract.AlertRecord:
    return {
        "id": ident, "time": time, "kind": "tamper", "severity": "critical",
        "message": message, "acknowledged": ident % 2 == 0, "profile": "child", "chat": None,
        "event": None,
    }  # fmt: skip


def _stats(since: str, until: str, per_day: list[tuple[str, str, int]]) -> contract.Stats:
    return {
        "since": since,
        "until": until,
        "utc_offset_minutes": 330,
        "per_day": [{"day": d, "category": c, "count": n} for d, c, n in per_day],
        "top_domains": [{"name": "adult.example", "count": 5}, {"name": "bet.example", "count": 2}],
        "top_apps": [],
    }


# Today is 2026-12-01 in Asia/Kolkata (UTC+5:30): the local midnight after it is 18:30 UTC.
FORTNIGHT = _stats(
    "2026-11-17T18:30:00+00:00",
    "2026-12-01T18:30:00+00:00",
    [
        ("2026-11-18", "adult", 2),  # the week before (18 Nov to 24 Nov)
        ("2026-11-24", "gambling", 2),
        ("2026-11-25", "adult", 3),  # this week (25 Nov to 1 Dec)
        ("2026-12-01", "adult", 2),
        ("2026-12-01", "gambling", 1),
    ],
)
INPUT = ReportInput(
    timezone="Asia/Kolkata",
    stats=FORTNIGHT,
    week_stats=_stats("2026-11-24T18:30:00+00:00", "2026-12-01T18:30:00+00:00", []),
    events=(
        _event(4, "2026-12-01T05:00:00+00:00", "verdict"),
        _event(3, "2026-11-24T19:00:00+00:00", "tamper"),  # 25 Nov 00:30 local: this week
        _event(2, "2026-11-24T18:00:00+00:00", "verdict"),  # 24 Nov 23:30 local: week before
        _event(1, "2026-11-01T10:00:00+00:00", "verdict"),  # outside the fortnight
    ),
    events_complete=True,
    alerts=(
        _alert(2, "2026-11-30T10:00:00+00:00", "Proxy settings were changed"),
        _alert(1, "2026-11-20T10:00:00+00:00", "An older alert"),
    ),
)


def test_the_two_weeks_are_the_policy_zones_days_ending_today() -> None:
    report = build_report(INPUT, EN, NOW)
    assert report.this_week == (date(2026, 11, 25), date(2026, 12, 1))
    assert report.week_before == (date(2026, 11, 18), date(2026, 11, 24))
    assert report.period(EN) == "2026-11-25 to 2026-12-01"
    assert report.made == "2026-12-01 09:30"


def test_counts_per_category_and_kind_fall_in_their_local_week() -> None:
    report = build_report(INPUT, EN, NOW)
    assert report.total == Line("Everything counted", 6, 4)
    assert report.categories == (
        Line("Adult content", 5, 2),
        Line("Gambling and betting", 1, 2),
    )
    assert report.kinds == (
        Line("Web page checked", 1, 1),
        Line("Protection was tampered with", 1, 0),
    )
    assert report.top_sites == (("adult.example", 5), ("bet.example", 2))
    assert report.trend == "6 events this week, up from 4 the week before (50% more)."


def test_only_this_weeks_alerts_are_listed_reviewed_or_not_in_local_time() -> None:
    report = build_report(INPUT, EN, NOW)
    assert [(a.when, a.severity, a.what) for a in report.alerts] == [
        ("2026-11-30 15:30", "Urgent", "Proxy settings were changed")
    ]


@pytest.mark.parametrize(
    ("this", "before", "words"),
    [
        (3, 3, "3 events this week, the same as the week before."),
        (3, 0, "3 events this week; none the week before."),
        (1, 4, "1 events this week, down from 4 the week before (75% fewer)."),
    ],
)
def test_the_trend_in_words(this: int, before: int, words: str) -> None:
    assert trend_words(Line("x", this, before), EN) == words


def test_the_csv_has_a_row_per_count_site_and_alert() -> None:
    report = build_report(INPUT, EN, NOW)
    rows = csv_rows(report, EN)
    assert rows[0] == ["section", "name", "this week", "week before", "change", "detail"]
    assert rows[1][0] == "period" and "2026-11-25 to 2026-12-01" in rows[1][5]
    assert ["total", "Everything counted", "6", "4", "+2", ""] in rows
    assert ["category", "Gambling and betting", "1", "2", "-1", ""] in rows
    assert ["kind", "Protection was tampered with", "1", "0", "+1", ""] in rows
    assert ["top site", "adult.example", "5", "", "", ""] in rows
    alert_rows = [row for row in rows if row[0] == "alert"]
    assert alert_rows == [
        ["alert", "child", "", "", "", "2026-11-30 15:30 · Urgent · Proxy settings were changed"]
    ]
    out = io.StringIO(newline="")
    write_csv(report, EN, out)
    text = out.getvalue()
    assert text.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(text.removeprefix("\ufeff")))) == rows


def test_hindi_words_and_an_empty_fortnight() -> None:
    empty = ReportInput(
        timezone="Asia/Kolkata",
        stats=_stats(FORTNIGHT["since"], FORTNIGHT["until"], []),
        week_stats=_stats(FORTNIGHT["since"], FORTNIGHT["until"], []),
        events=(),
        events_complete=False,
        alerts=(),
    )
    hindi = Texts("hi")
    report = build_report(empty, hindi, NOW)
    assert report.categories == report.kinds == report.alerts == ()
    assert not report.complete
    assert report.trend == "इस हफ़्ते 0 घटनाएँ, पिछले हफ़्ते जितनी ही।"
    assert csv_rows(report, hindi)[0][0] == "भाग"
