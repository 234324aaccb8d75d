"""The tray's state, tooltip, menu and notifications, computed from status records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from abhaya.client import contract
from abhaya.ui.tray.controller import (
    COLOURS,
    Action,
    Level,
    Reading,
    SignedOut,
    Unreachable,
    news,
    seen,
    view,
)
from tests.ui.tray.factories import alert, request, status, tamper

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def actions(shown_menu: object) -> list[Action | None]:
    return [item.action for item in shown_menu]  # type: ignore[attr-defined]


def test_a_healthy_agent_shows_protected_in_green_with_pause_in_the_menu() -> None:
    shown = view(Reading(status()), NOW, "en")
    assert shown.level is Level.PROTECTED
    assert shown.colour == COLOURS[Level.PROTECTED]
    assert shown.tooltip == "Abhaya: protection is on"
    assert shown.problems == ()
    assert actions(shown.menu) == [
        Action.OPEN_CONSOLE,
        Action.PAUSE_15,
        Action.PAUSE_60,
        Action.QUIT,
    ]
    assert [item.default for item in shown.menu] == [True, False, False, False]


def test_a_pause_shows_its_end_in_the_family_time_zone_and_offers_resume() -> None:
    paused = status(protection="paused", paused_until="2026-12-01T11:30:00+00:00")
    shown = view(Reading(paused), NOW, "en")
    assert shown.level is Level.PAUSED
    assert shown.colour == COLOURS[Level.PAUSED]
    # Asia/Kolkata is UTC+05:30.
    assert shown.tooltip == "Abhaya: protection is paused until 17:00"
    assert actions(shown.menu) == [Action.OPEN_CONSOLE, Action.RESUME, Action.QUIT]


def test_a_pause_ending_on_another_day_names_the_day() -> None:
    paused = status(protection="paused", paused_until="2026-12-01T20:00:00+00:00")
    assert "until 02 Dec 01:30" in view(Reading(paused), NOW, "en").tooltip


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"store": {"key_mode": "file"}}, "key is kept in a file"),
        ({"store": {"security_problem": "settings damaged"}}, "PIN settings are damaged"),
        ({"store": {"writer_running": False}}, "not being recorded"),
        ({"last_tamper": tamper("2026-12-01T08:00:00+00:00")}, "change the protection at 13:30"),
    ],
)
def test_each_problem_turns_the_icon_red_and_is_named(
    changes: dict[str, object], words: str
) -> None:
    shown = view(Reading(status(**changes)), NOW, "en")
    assert shown.level is Level.PROBLEM
    assert shown.colour == COLOURS[Level.PROBLEM]
    assert words in shown.tooltip
    assert len(shown.problems) == 1 and words in shown.problems[0]


def test_a_problem_outranks_a_pause_but_resume_stays_offered() -> None:
    record = status(
        protection="paused",
        paused_until="2026-12-01T11:00:00+00:00",
        store={"key_mode": "file"},
    )
    shown = view(Reading(record), NOW, "en")
    assert shown.level is Level.PROBLEM
    assert Action.RESUME in actions(shown.menu)


def test_an_old_tamper_event_is_no_longer_a_problem() -> None:
    record = status(last_tamper=tamper("2026-11-29T10:00:00+00:00"))
    assert view(Reading(record), NOW, "en").level is Level.PROTECTED


def test_an_unreachable_agent_is_a_problem_that_says_so() -> None:
    shown = view(Unreachable("connection refused"), NOW, "en")
    assert shown.level is Level.PROBLEM
    assert shown.tooltip == "Abhaya: there is a problem: the Abhaya agent is not answering"
    assert actions(shown.menu) == [Action.OPEN_CONSOLE, Action.QUIT]


def test_signed_out_is_grey_and_offers_sign_in_and_no_pin_is_a_problem() -> None:
    shown = view(SignedOut(pin_set=True), NOW, "en")
    assert shown.level is Level.SIGNED_OUT and shown.colour == COLOURS[Level.SIGNED_OUT]
    assert Action.SIGN_IN in actions(shown.menu)
    no_pin = view(SignedOut(pin_set=False), NOW, "en")
    assert no_pin.level is Level.PROBLEM
    assert "no parent PIN" in no_pin.tooltip


def test_waiting_requests_and_alerts_are_counted_in_the_tooltip_and_menu() -> None:
    reading = Reading(status(), (request(1), request(2)), (alert(5),))
    shown = view(reading, NOW, "en")
    assert shown.tooltip == "Abhaya: protection is on · 2 requests waiting · 1 alert"
    info = [item.label for item in shown.menu if item.action is None]
    assert info == ["2 requests waiting", "1 alert"]
    assert (shown.pending, shown.alerts) == (2, 1)


def test_the_tooltip_and_menu_speak_hindi() -> None:
    reading = Reading(status(), (request(1),), (alert(5), alert(6)))
    shown = view(reading, NOW, "hi")
    assert shown.tooltip == "अभय: सुरक्षा चालू है · 1 अनुरोध प्रतीक्षा में · 2 चेतावनियाँ"
    assert shown.menu[0].label == "कंसोल खोलें"
    paused = status(protection="paused", paused_until="2026-12-01T11:30:00+00:00")
    assert view(Reading(paused), NOW, "hi").tooltip == "अभय: सुरक्षा 17:00 तक रुकी हुई है"
    assert "जवाब नहीं" in view(Unreachable("x"), NOW, "hi").tooltip


def poll_sequence(*polls: Reading | Unreachable | SignedOut) -> list[list[str]]:
    """The notification bodies of each poll in turn, as the tray would send them."""
    before = None
    bodies = []
    for poll in polls:
        shown = view(poll, NOW, "en")
        bodies.append([notice.body for notice in news(before, poll, shown, "en")])
        before = seen(poll, shown, before)
    return bodies


def test_only_new_requests_and_alerts_notify_and_the_first_poll_sums_up() -> None:
    first = Reading(status(), (request(1),), ())
    same = Reading(status(), (request(1),), ())
    more = Reading(status(), (request(1), request(2, "ravi", "maps.example")), (alert(9),))
    assert poll_sequence(first, same, more) == [
        ["1 request waiting; open the console to see them"],
        [],
        [
            "New request from ravi: maps.example",
            "New critical alert for asha; open the console to see it",
        ],
    ]


def test_an_alert_notice_never_quotes_the_alert_message() -> None:
    bodies = poll_sequence(Reading(status()), Reading(status(), (), (alert(3, message="SECRET"),)))
    assert bodies[1] and all("SECRET" not in body for body in bodies[1])


def test_an_agent_restart_notifies_once_and_does_not_repeat_waiting_requests() -> None:
    waiting = Reading(status(), (request(1),), (alert(2),))
    assert poll_sequence(waiting, Unreachable("refused"), Unreachable("refused"), waiting) == [
        ["1 request waiting, 1 alert; open the console to see them"],
        ["the Abhaya agent is not answering"],
        [],
        ["Abhaya is answering again"],
    ]


def test_a_tray_started_while_the_agent_is_down_sums_up_once_it_answers() -> None:
    waiting = Reading(status(), (request(1),), ())
    assert poll_sequence(Unreachable("refused"), waiting, waiting) == [
        ["the Abhaya agent is not answering"],
        ["Abhaya is answering again", "1 request waiting; open the console to see them"],
        [],
    ]


def test_a_new_problem_notifies_with_its_reason() -> None:
    record: contract.Status = status(store={"writer_running": False})
    assert poll_sequence(Reading(status()), Reading(record)) == [
        [],
        ["activity is not being recorded"],
    ]
