"""The walk-through's words: what each age band sets, and the last step's findings with fixes,
from a real agent's status with one fact changed at a time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from abhaya.client import contract
from abhaya.installer.base import Check
from abhaya.installer.checkfile import read_checks, save_checks
from abhaya.ui.console.agebands import band
from abhaya.ui.console.childsetup import ChildInput
from abhaya.ui.console.controllers.walkthrough import CheckLine, band_summary, check_lines
from abhaya.ui.console.service import ConsoleService, MachineStatus
from abhaya.ui.console.texts import Texts
from tests.agent.test_cli import AgentProcess
from tests.client.test_commands import PIN
from tests.ui.console.conftest import data_dir

EN, HI = Texts("en"), Texts("hi")
CHILDREN = (ChildInput("Asha", "under_9", "hi", "asha"), ChildInput("Ravi", "16_17", "en"))


@pytest.fixture(scope="module")
def found(agent: AgentProcess) -> MachineStatus:
    service = ConsoleService(data_dir(agent), checks_file=Path("/nonexistent/checks.json"))
    service.login(PIN)
    return service.machine_status()


def _with(found: MachineStatus, trusted: bool | None, seen: dict[str, str]) -> MachineStatus:
    status = dict(found.status)
    status["ca"] = {**found.status["ca"], "system_trusted": trusted}
    status["connections"] = {**found.status["connections"], "last_seen_by_user": seen}
    return MachineStatus(contract.Status(**status), found.machine)


def test_a_band_is_summed_up_in_the_parents_words() -> None:
    defined = frozenset({"adult", "violence", "games"})
    summary = band_summary(band("under_9"), defined, EN)
    assert summary.splitlines() == [
        f"Blocked: {EN.category('adult')}, {EN.category('violence')}",
        f"Warning page first: {EN.category('games')}",
        "Pictures that look harmful: hidden",
        "Browsing allowed: 07:00-20:00, every day",
    ]
    assert band_summary(band("16_17"), defined, HI).splitlines()[-1] == HI(
        "walkthrough.summary_any_time"
    )


def test_a_ready_computer_says_so(found: MachineStatus) -> None:
    lines = check_lines(_with(found, True, {"asha": "2026-12-01T10:00:00+00:00"}), CHILDREN, EN)
    assert lines == (
        CheckLine(True, EN("walkthrough.ca_trusted")),
        CheckLine(True, "Asha's browsing goes through Abhaya (account asha)."),
        CheckLine(
            None,
            "No computer account is chosen for Ravi, so Ravi follows the default rules.",
            EN("walkthrough.no_account_fix"),
        ),
        CheckLine(None, EN("walkthrough.no_machine_checks")),
    )


def test_what_is_not_ready_comes_with_its_fix(found: MachineStatus, tmp_path: Path) -> None:
    saved = tmp_path / "checks.json"
    save_checks(
        saved,
        [Check("routing is in place", False, "", "run sudo abhaya install")],
        datetime.now(UTC),
    )
    broken = _with(found, False, {"parent": "2026-12-01T10:00:00+00:00"})
    broken = MachineStatus(broken.status, read_checks(saved))
    ca, asha, _, routing = check_lines(broken, CHILDREN, EN)
    assert ca.ok is False and found.status["ca"]["fingerprint_sha256"] in ca.fix
    # Not seen yet is not known to be a problem: the child may simply not have browsed.
    assert asha == CheckLine(
        None,
        "No browsing from Asha's account (asha) has reached Abhaya yet.",
        EN("walkthrough.not_seen_fix", account="asha"),
    )
    assert routing == CheckLine(False, "routing is in place", "run sudo abhaya install")


def test_a_store_that_cannot_be_read_is_unknown_not_a_problem(found: MachineStatus) -> None:
    line = check_lines(_with(found, None, {}), (), HI)[0]
    assert line.ok is None
    assert found.status["ca"]["trust_store"] in line.text
