"""The tray against a real `abhaya run` agent with a PIN: protected, paused through the API,
a problem while the agent is stopped, and recovered by itself once it runs again."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from abhaya.client.api import ApiClient, ClientError
from abhaya.ui.tray.controller import Level, Reading, SignedOut, Unreachable, view
from abhaya.ui.tray.service import TrayService
from tests.agent.test_cli import AgentProcess
from tests.client.test_commands import PIN, abhaya
from tests.conftest import write_policy


def start_agent(folder: Path) -> AgentProcess:
    return AgentProcess(folder, write_policy(folder / "policy"))


def stop_agent(process: AgentProcess) -> None:
    process.process.send_signal(signal.SIGTERM)
    process.process.wait(30)


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[AgentProcess]:
    process = start_agent(tmp_path)
    first = abhaya("set-pin", data_dir=tmp_path / "data", pin_input=f"{PIN}\n{PIN}\n")
    assert first.returncode == 0, first.stderr
    yield process
    if process.process.poll() is None:
        process.process.kill()
        process.process.wait()


def level(poll: object) -> Level:
    return view(poll, datetime.now(UTC), "en").level  # type: ignore[arg-type]


def test_protected_paused_stopped_and_recovered(agent: AgentProcess) -> None:
    data_dir = agent.folder / "data"
    service = TrayService(data_dir)
    assert service.read() == SignedOut(pin_set=True)
    service.sign_in(PIN)
    assert level(service.read()) is Level.PROTECTED

    parent = ApiClient.for_data_dir(data_dir)
    parent.login(PIN)
    parent.pause(15)
    paused = service.read()
    assert isinstance(paused, Reading) and level(paused) is Level.PAUSED
    assert paused.status["paused_until"] is not None

    stop_agent(agent)
    gone = service.read()
    assert isinstance(gone, Unreachable) and level(gone) is Level.PROBLEM
    assert "not running" in gone.reason

    # Same data folder: the PIN and the (bounded) pause survive the restart; the session does
    # not, so the service logs in again by itself.
    restarted = start_agent(agent.folder)
    try:
        back = service.read()
        assert isinstance(back, Reading) and level(back) is Level.PAUSED
        service.resume(PIN)
        assert level(service.read()) is Level.PROTECTED
    finally:
        stop_agent(restarted)


def test_a_refused_re_login_forgets_the_pin_after_one_try(agent: AgentProcess) -> None:
    data_dir = agent.folder / "data"
    service = TrayService(data_dir)
    service.sign_in(PIN)
    assert isinstance(service.read(), Reading)
    parent = ApiClient.for_data_dir(data_dir)
    parent.login(PIN)
    parent.set_pin("9753", PIN)  # ends every session, the tray's too

    refused = service.read()
    assert isinstance(refused, SignedOut) and refused.pin_set and "PIN" in refused.reason
    assert not service.signed_in
    # No second guess: further polls ask for a sign-in instead of trying the old PIN again.
    assert service.read() == SignedOut(pin_set=True)
    parent.login("9753")  # not locked out by the tray


def test_pause_and_resume_need_the_right_pin(agent: AgentProcess) -> None:
    service = TrayService(agent.folder / "data")
    with pytest.raises(ClientError) as wrong:
        service.pause("0000", 15)
    assert wrong.value.status == 401
    assert not service.signed_in
    assert service.pause(PIN, 60)["paused"] is True
    # A PIN that just worked signs the tray in for reading.
    assert service.signed_in and level(service.read()) is Level.PAUSED
    assert service.resume(PIN)["paused"] is False


def test_an_agent_without_a_pin_asks_for_one(tmp_path: Path) -> None:
    process = start_agent(tmp_path)
    try:
        poll = TrayService(tmp_path / "data").read()
        assert poll == SignedOut(pin_set=False)
        assert level(poll) is Level.PROBLEM
    finally:
        stop_agent(process)


def test_no_agent_at_all_is_unreachable(tmp_path: Path) -> None:
    poll = TrayService(tmp_path).read()
    assert isinstance(poll, Unreachable) and "abhaya run" in poll.reason
