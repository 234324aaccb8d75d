"""The tray's logic, pure: from what one poll of the agent saw, the icon's state, colour,
tooltip and menu, and what is new since the poll before (each new thing is one notification).

Nothing here talks to the API, pystray or Qt, so every rule is tested on plain records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from abhaya.client import contract
from abhaya.ui.tray.words import Language, count_text, say

TAMPER_RECENT = timedelta(hours=24)
"""A tamper event younger than this keeps the icon on "problem" (the console lists older ones)."""

Colour = tuple[int, int, int]


class Level(StrEnum):
    PROTECTED = "protected"
    PAUSED = "paused"
    PROBLEM = "problem"
    SIGNED_OUT = "signed_out"
    """The agent answers, but the tray has no session (no PIN given yet, or it was refused)."""


COLOURS: dict[Level, Colour] = {
    Level.PROTECTED: (46, 160, 67),
    Level.PAUSED: (230, 162, 0),
    Level.PROBLEM: (208, 48, 48),
    Level.SIGNED_OUT: (128, 128, 128),
}


class Action(StrEnum):
    OPEN_CONSOLE = "open_console"
    PAUSE_15 = "pause_15"
    PAUSE_60 = "pause_60"
    RESUME = "resume"
    SIGN_IN = "sign_in"
    QUIT = "quit"
    MENU = "menu"
    """Show the menu as a popup of the tray's own (a backend that draws none: X11)."""


PAUSE_MINUTES = {Action.PAUSE_15: 15, Action.PAUSE_60: 60}


# -- what a poll saw --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reading:
    """The agent answered with its status, the pending requests and the unseen alerts."""

    status: contract.Status
    pending: Sequence[contract.AccessRequestRecord] = ()
    alerts: Sequence[contract.AlertRecord] = ()


@dataclass(frozen=True, slots=True)
class Unreachable:
    """No answer (not running, restarting, api.json missing) or an answer that is an error."""

    reason: str


@dataclass(frozen=True, slots=True)
class SignedOut:
    """The agent answers but the tray has no session; `pin_set` False: no PIN exists yet."""

    pin_set: bool
    reason: str = ""


Poll = Reading | Unreachable | SignedOut


# -- what the tray shows ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MenuItem:
    label: str
    action: Action | None
    """None: a line that only informs ("2 requests waiting" opens nothing by itself)."""
    default: bool = False
    """The action of a plain click on the icon (the one action every backend offers)."""


@dataclass(frozen=True, slots=True)
class TrayView:
    level: Level
    colour: Colour
    tooltip: str
    problems: tuple[str, ...]
    menu: tuple[MenuItem, ...]
    pending: int = 0
    alerts: int = 0


@dataclass(frozen=True, slots=True)
class Notice:
    title: str
    body: str


@dataclass(frozen=True, slots=True)
class Seen:
    """What the last poll showed, to tell what is new in the next one."""

    level: Level
    request_ids: frozenset[int] = field(default_factory=frozenset)
    alert_ids: frozenset[int] = field(default_factory=frozenset)
    read_once: bool = False
    """A Reading was seen: the ids above are known (until then, news sends one summary)."""


def family_zone(status: contract.Status) -> tzinfo:
    """The policy's time zone; UTC when the name is unknown here (a time is still shown)."""
    try:
        return ZoneInfo(status["policy"]["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _clock(text: str, zone: tzinfo, now: datetime) -> str:
    moment = contract.parse_time(text).astimezone(zone)
    if moment.date() == now.astimezone(zone).date():
        return moment.strftime("%H:%M")
    return moment.strftime("%d %b %H:%M")


def problems(reading: Reading, now: datetime, language: Language) -> tuple[str, ...]:
    """Each reason the parent should act on, in words; empty when all is well."""
    status = reading.status
    store = status["store"]
    found: list[str] = []
    if store["key_mode"] != "keyring":
        found.append(say(language, "key_file"))
    if store["security_problem"]:
        found.append(say(language, "security"))
    if not store["writer_running"]:
        found.append(say(language, "writer"))
    tamper = status["last_tamper"]
    if tamper is not None and now - contract.parse_time(tamper["time"]) < TAMPER_RECENT:
        found.append(say(language, "tamper", time=_clock(tamper["time"], family_zone(status), now)))
    return tuple(found)


def _counts(language: Language, pending: int, alerts: int) -> list[str]:
    """`2 requests waiting`, `1 alert`: only the non-zero ones."""
    pairs = (("requests", pending), ("alerts", alerts))
    return [count_text(language, what, n) for what, n in pairs if n]


def view(poll: Poll, now: datetime, language: Language) -> TrayView:
    """The icon's colour, tooltip and menu for what the poll saw."""
    name = say(language, "name")
    console = MenuItem(say(language, "open_console"), Action.OPEN_CONSOLE, default=True)
    close = MenuItem(say(language, "quit"), Action.QUIT)
    if isinstance(poll, Unreachable):
        what = say(language, "unreachable")
        tooltip = f"{name}: {say(language, 'problem', what=what)}"
        return TrayView(Level.PROBLEM, COLOURS[Level.PROBLEM], tooltip, (what,), (console, close))
    if isinstance(poll, SignedOut):
        if not poll.pin_set:
            what = say(language, "no_pin")
            tooltip = f"{name}: {say(language, 'problem', what=what)}"
            return TrayView(
                Level.PROBLEM, COLOURS[Level.PROBLEM], tooltip, (what,), (console, close)
            )
        sign_in = MenuItem(say(language, "sign_in"), Action.SIGN_IN)
        tooltip = f"{name}: {say(language, 'signed_out')}"
        level = Level.SIGNED_OUT
        return TrayView(level, COLOURS[level], tooltip, (), (console, sign_in, close))
    status = poll.status
    found = problems(poll, now, language)
    paused = status["protection"] == "paused"
    if found:
        level = Level.PROBLEM
        state = say(language, "problem", what="; ".join(found))
    elif paused:
        level = Level.PAUSED
        until = status["paused_until"]
        state = say(
            language, "paused", time=_clock(until, family_zone(status), now) if until else ""
        )
    else:
        level = Level.PROTECTED
        state = say(language, "protected")
    pending, alerts = len(poll.pending), len(poll.alerts)
    counts = [
        count_text(language, what, n)
        for what, n in (("requests", pending), ("alerts", alerts))
        if n
    ]
    tooltip = " · ".join([f"{name}: {state}", *counts])
    menu = [console]
    menu += [MenuItem(text, None) for text in counts]
    if paused:
        menu.append(MenuItem(say(language, "resume"), Action.RESUME))
    else:
        menu.append(MenuItem(say(language, "pause_15"), Action.PAUSE_15))
        menu.append(MenuItem(say(language, "pause_60"), Action.PAUSE_60))
    menu.append(close)
    return TrayView(level, COLOURS[level], tooltip, found, tuple(menu), pending, alerts)


def seen(poll: Poll, shown: TrayView, before: Seen | None) -> Seen:
    """What to remember of this poll.  Without a Reading (agent restarting) the known ids are
    kept, so a restart does not announce every waiting request again."""
    if isinstance(poll, Reading):
        return Seen(
            shown.level,
            frozenset(item["id"] for item in poll.pending),
            frozenset(item["id"] for item in poll.alerts),
            read_once=True,
        )
    if before is None:
        return Seen(shown.level)
    return Seen(shown.level, before.request_ids, before.alert_ids, before.read_once)


def news(before: Seen | None, poll: Poll, shown: TrayView, language: Language) -> list[Notice]:
    """The notifications this poll calls for: each request or alert not seen before, the icon
    turning to "problem", and it recovering.  On the first Reading, one summary of what is
    already waiting instead of a notice per item."""
    name = say(language, "name")
    notices: list[Notice] = []
    was = before.level if before is not None else None
    if shown.level is Level.PROBLEM and was is not Level.PROBLEM:
        notices.append(Notice(say(language, "now_problem"), "; ".join(shown.problems)))
    if was is Level.PROBLEM and shown.level is not Level.PROBLEM:
        notices.append(Notice(name, say(language, "recovered")))
    if not isinstance(poll, Reading):
        return notices
    if before is None or not before.read_once:
        counts = _counts(language, shown.pending, shown.alerts)
        if counts:
            notices.append(Notice(name, say(language, "summary", what=", ".join(counts))))
        return notices
    everyone = say(language, "everyone")
    for request in poll.pending:
        if request["id"] not in before.request_ids:
            body = say(
                language,
                "new_request",
                profile=request["profile"] or everyone,
                domain=request["domain"],
            )
            notices.append(Notice(name, body))
    for alert in poll.alerts:
        if alert["id"] not in before.alert_ids:
            # The alert's own message may quote a chat; a desktop notification never does.
            body = say(
                language,
                "new_alert",
                severity=alert["severity"],
                profile=alert["profile"] or everyone,
            )
            notices.append(Notice(name, body))
    return notices
