"""What the dashboard says, from a real agent's overview with one fact changed at a time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from abhaya.client import contract
from abhaya.installer.base import Check
from abhaya.installer.checkfile import read_checks, save_checks
from abhaya.ui.console.checknames import SYSTEM_TRUST
from abhaya.ui.console.controllers.dashboard import summarise
from abhaya.ui.console.service import ConsoleService, Overview
from abhaya.ui.console.texts import Texts
from tests.agent.test_cli import AgentProcess
from tests.client.test_commands import PIN
from tests.ui.console.conftest import data_dir

EN = Texts("en")


@pytest.fixture(scope="module")
def overview(agent: AgentProcess) -> Overview:
    assert agent.status_of("https://adult.example/overview") == 403
    service = ConsoleService(data_dir(agent))
    service.login(PIN)
    return service.overview()


def _with_status(overview: Overview, **changes: object) -> Overview:
    status = dict(overview.status) | changes
    return Overview(contract.Status(**status), overview.stats, overview.pending_requests)


def test_a_healthy_agent_is_on_with_no_problems(overview: Overview) -> None:
    state = summarise(overview, datetime.now(UTC), EN)
    assert (state.protected, state.protection, state.problems) == (True, "Protection is on.", ())
    assert state.timezone == "Asia/Kolkata"
    assert dict(state.week)["Adult content"] >= 1


def test_a_pause_shows_its_end_in_the_policys_time_zone(overview: Overview) -> None:
    paused = _with_status(overview, protection="paused", paused_until="2026-12-01T12:30:00+00:00")
    state = summarise(paused, datetime.now(UTC), EN)
    assert not state.protected
    assert state.protection == "Protection is paused until 18:00."  # 12:30 UTC in Kolkata


def test_key_file_mode_and_a_recent_tamper_are_problems(overview: Overview) -> None:
    now = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    tamper: contract.EventRecord = {
        "id": 9, "time": "2026-11-30T04:00:00+00:00", "kind": "tamper", "profile": "",
        "category": "", "action": "", "domain": "", "url": "", "rule": "",
        "app": "", "detail": "the event store was replaced", "reason": "",
        "os_user": "", "process": "",
    }  # fmt: skip
    store = dict(overview.status["store"]) | {"key_mode": "file"}
    changed = _with_status(overview, store=store, last_tamper=tamper)
    problems = summarise(changed, now, EN).problems
    assert problems[0].startswith("The activity history's key is kept in a file")
    assert problems[1] == (
        "Someone tried to change or turn off protection (2026-11-30 09:30): "
        "the event store was replaced"
    )
    a_week_later = summarise(changed, now + timedelta(days=8), EN).problems
    assert len(a_week_later) == 1  # an old tamper event ages out of the problems


def test_todays_counts_are_the_policy_days(overview: Overview) -> None:
    stats = dict(overview.stats) | {
        "per_day": [
            {"day": "2026-12-01", "category": "gambling", "count": 3},
            {"day": "2026-11-30", "category": "gambling", "count": 4},
            {"day": "2026-11-30", "category": "adult", "count": 9},
        ],
        "utc_offset_minutes": 330,
    }
    changed = Overview(overview.status, contract.Stats(**stats), 2)
    # 20:00 UTC on 30 November is already 1 December in Kolkata.
    state = summarise(changed, datetime(2026, 11, 30, 20, 0, tzinfo=UTC), EN)
    assert state.today == (("Gambling and betting", 3),)
    assert state.week == (("Adult content", 9), ("Gambling and betting", 7))
    assert state.requests == "Requests waiting for you: 2"


def test_the_installed_computers_failing_checks_are_problems_with_their_fixes(
    overview: Overview, tmp_path: Path
) -> None:
    saved = tmp_path / "doctor.json"
    checked = datetime(2026, 12, 1, 5, 45, tzinfo=UTC)
    save_checks(
        saved,
        [
            Check("the service is running", True),
            Check("the firewall rules are loaded", False, "no table", "run `sudo abhaya install`"),
        ],
        checked,
    )
    machine = read_checks(saved)
    assert machine is not None
    with_checks = replace(overview, machine=machine)
    problems = summarise(with_checks, checked + timedelta(minutes=15), EN).problems
    assert problems == (
        "This computer's setup: the firewall rules are loaded is not right. To fix it: run "
        "`sudo abhaya install`",
    )
    hindi = summarise(with_checks, checked + timedelta(minutes=15), Texts("hi")).problems
    # A name the console does not know stays as it is; a known one is in Hindi.
    assert "the firewall rules are loaded" in hindi[0]
    known = replace(
        with_checks,
        machine=replace(machine, checks=(Check("the system trusts the CA", False, "", "f"),)),
    )
    (shown,) = summarise(known, checked + timedelta(minutes=15), Texts("hi")).problems
    assert "सिस्टम CA पर भरोसा करता है" in shown and "the system" not in shown
    stale = summarise(with_checks, checked + timedelta(days=2), EN).problems
    assert stale[-1] == (
        "This computer's setup was last checked at 2026-12-01 11:15; run `sudo abhaya doctor`."
    )


def test_the_console_reads_the_saved_checks_and_ignores_a_damaged_file(
    agent: AgentProcess, tmp_path: Path
) -> None:
    saved = tmp_path / "doctor.json"
    service = ConsoleService(data_dir(agent), checks_file=saved)
    service.login(PIN)
    assert service.overview().machine is None
    save_checks(saved, [Check("a check", False, "", "a fix")], datetime.now(UTC))
    machine = service.overview().machine
    assert machine is not None and machine.problems[0].fix == "a fix"
    saved.write_text("{damaged")
    assert service.overview().machine is None


def test_an_untrusted_ca_is_a_problem_and_an_unknown_one_is_not(overview: Overview) -> None:
    untrusted = _with_status(overview, ca={**overview.status["ca"], "system_trusted": False})
    state = summarise(untrusted, datetime.now(UTC), EN)
    assert state.problems == (EN("walkthrough.dashboard_ca_not_trusted"),)
    unknown = _with_status(overview, ca={**overview.status["ca"], "system_trusted": None})
    assert summarise(unknown, datetime.now(UTC), EN).problems == ()


def test_an_untrusted_ca_the_doctor_also_found_is_said_once(
    overview: Overview, tmp_path: Path
) -> None:
    saved = tmp_path / "doctor.json"
    now = datetime.now(UTC)
    save_checks(saved, [Check(SYSTEM_TRUST, False, "", "run `sudo abhaya install`")], now)
    machine = read_checks(saved)
    assert machine is not None
    untrusted = _with_status(overview, ca={**overview.status["ca"], "system_trusted": False})
    problems = summarise(replace(untrusted, machine=machine), now, EN).problems
    assert problems == (EN("walkthrough.dashboard_ca_not_trusted"),)
    # When the agent cannot tell, the doctor's finding is still shown.
    unknown = _with_status(overview, ca={**overview.status["ca"], "system_trusted": None})
    (shown,) = summarise(replace(unknown, machine=machine), now, EN).problems
    assert SYSTEM_TRUST in shown
