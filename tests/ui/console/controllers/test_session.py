"""Sign-in refusals in plain words, from a real agent's real refusals (wrong PIN, lock-out)."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from abhaya.agent.api.pin import MAX_FAILURES
from abhaya.ui.console.controllers.session import SessionController, is_pin
from abhaya.ui.console.runner import Runner
from abhaya.ui.console.service import ConsoleService
from abhaya.ui.console.texts import Texts
from tests.ui.console.conftest import data_dir, start_agent, stop_agent


def test_the_pin_rule_is_the_agents() -> None:
    assert [is_pin(text) for text in ("1234", "123456789012", "123", "1234567890123")] == [
        True,
        True,
        False,
        False,
    ]
    assert not is_pin("12a4") and not is_pin("١٢٣٤")  # Arabic-Indic digits are not 0-9


def test_wrong_pins_then_the_lock_out_are_said_in_words(qtbot: QtBot, tmp_path: Path) -> None:
    agent = start_agent(tmp_path, with_pin=True)
    try:
        runner = Runner()
        session = SessionController(ConsoleService(data_dir(agent)), runner, Texts("en"))
        said: list[str] = []
        session.refused.connect(said.append)
        for attempt in range(MAX_FAILURES + 1):
            with qtbot.waitSignal(session.refused, timeout=10_000):
                session.login("9999")
            assert runner.wait_idle(5_000), attempt
        assert said[0] == "That PIN is not right. Try again."
        assert said[-1] == "Too many wrong PINs. Try again in 1 min."
        hindi = SessionController(ConsoleService(data_dir(agent)), runner, Texts("hi"))
        with qtbot.waitSignal(hindi.refused, timeout=10_000) as answer:
            hindi.login("2468")  # the right PIN, but logins are still refused
        assert answer.args == ["बहुत बार गलत PIN डाला गया। 1 मिनट बाद फिर कोशिश करें।"]
    finally:
        stop_agent(agent)


def test_no_agent_is_said_in_words(qtbot: QtBot, tmp_path: Path) -> None:
    session = SessionController(ConsoleService(tmp_path), Runner(), Texts("en"))
    with qtbot.waitSignal(session.refused, timeout=10_000) as answer:
        session.start()
    assert answer.args[0].startswith("Abhaya's agent is not running on this computer")
