"""The Settings page's "Secure sites" against a real agent: the choice shown, saved and applied
by the proxy, a refusal said with the choice in force kept, and the connections counted.

A secure connection is started the way a browser starts one through the proxy: CONNECT, then a
TLS hello naming the site.  The agent decides there whether to look inside and counts why
(`connections.by_reason` in `GET /v1/status`), so the proxy's own decision is what is checked.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

from abhaya.filters.policy.model import InspectMode
from abhaya.ui.console.app import Console
from abhaya.ui.console.texts import Texts
from tests.agent.test_cli import AgentProcess
from tests.client.test_commands import PIN, abhaya
from tests.conftest import POLICY
from tests.ui.console.conftest import (
    data_dir,
    open_console,
    screenshot,
    sign_in,
    start_agent,
    stop_agent,
)
from tests.ui.console.test_rules_page import _DefaultPolicyAgent

INSPECT = textwrap.dedent(
    """\

    # Where secure sites are looked inside.
    [inspect]
    mode = "needed"              # fast at home
    always = ["forum.example"]   # the forum's pictures
    never = ["bank.example"]     # never the bank
    """
)
PLAIN = "plain-site.example"
"""In no list and no category: looked inside in `everything` mode only."""


def _hello(agent: AgentProcess, name: str) -> None:
    """Start a secure connection to `name` through the agent's proxy, as a browser does."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=name)
    with socket.create_connection(("127.0.0.1", agent.port), timeout=10) as sock:
        sock.sendall(f"CONNECT {name}:443 HTTP/1.1\r\nHost: {name}:443\r\n\r\n".encode())
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        with contextlib.suppress(ssl.SSLWantReadError):
            tls.do_handshake()
        sock.sendall(outgoing.read())
        with contextlib.suppress(OSError):
            sock.recv(4096)  # the agent's answer, or the end of a connection it could not pass


def _counted(qtbot: QtBot, console: Console, agent: AgentProcess, name: str, reason: str) -> None:
    """One more connection to `name`, and the agent counted it for `reason`."""

    def count() -> int:
        return console.service.status()["connections"]["by_reason"].get(reason, 0)

    before = count()
    _hello(agent, name)
    qtbot.waitUntil(lambda: count() == before + 1, timeout=10_000)


def _open_settings(qtbot: QtBot, folder: Path, language: str = "en") -> Console:
    console = open_console(qtbot, folder, language)
    sign_in(qtbot, console)
    console.window.tabs.setCurrentWidget(console.settings_view)
    box = console.settings_view.secure_sites
    qtbot.waitUntil(lambda: box.note.text() != "" and box.coverage.text() != "", timeout=10_000)
    return console


def _coverage(console: Console, texts: Texts) -> str:
    connections = console.service.status()["connections"]
    return texts(
        "inspect.coverage",
        inspected=connections["inspected"],
        passed=connections["passed_through"],
    )


def _choose(qtbot: QtBot, console: Console, mode: InspectMode) -> None:
    """Click the choice's round button, as a parent would."""
    button = console.settings_view.secure_sites.choices[mode]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(8, button.height() // 2))
    assert button.isChecked()


def _save(qtbot: QtBot, console: Console) -> str:
    box = console.settings_view.secure_sites
    box.message.clear()
    qtbot.mouseClick(box.save_button, Qt.MouseButton.LeftButton)
    saving = Texts("en")("retention.saving")
    qtbot.waitUntil(lambda: box.message.text() not in ("", saving), timeout=10_000)
    return box.message.text()


@pytest.mark.parametrize("language", ["en", "hi"])
def test_the_built_in_choice_is_shown_with_save_off_and_says_how_to_change_it(
    qtbot: QtBot, tmp_path: Path, language: str
) -> None:
    process = _DefaultPolicyAgent(tmp_path)
    texts = Texts(language)
    try:
        pin = abhaya("set-pin", data_dir=tmp_path / "data", pin_input=f"{PIN}\n{PIN}\n")
        assert pin.returncode == 0, pin.stderr
        console = _open_settings(qtbot, tmp_path / "data", language)
        box = console.settings_view.secure_sites
        assert box.current.text() == texts("inspect.now_needed")  # the built-in rules' choice
        assert box.chosen() is InspectMode.NEEDED
        assert not box.save_button.isEnabled()
        assert not any(button.isEnabled() for button in box.choices.values())
        assert box.note.text() == texts("inspect.not_editable")
        assert "--policy FILE" in box.note.text()
        console.window.resize(1100, 720)
        screenshot(box, f"settings-secure-sites-{language}", 1.5)
        _counted(qtbot, console, process, PLAIN, "not_needed")
        console.secure_sites.refresh()
        qtbot.waitUntil(lambda: box.coverage.text() == _coverage(console, texts), timeout=10_000)
        console.secure_sites.save("everything")  # even if asked, nothing is sent
        qtbot.waitUntil(lambda: box.message.text() == texts("inspect.not_editable"), timeout=10_000)

        stop_agent(process)  # no numbers from an agent that does not answer
        console.secure_sites.refresh()
        unknown = texts("inspect.coverage_unknown", message="")
        qtbot.waitUntil(lambda: box.coverage.text().startswith(unknown), timeout=15_000)
        console.close()
    finally:
        stop_agent(process)


def test_every_secure_site_is_saved_applied_and_counted_and_a_refusal_keeps_it(
    qtbot: QtBot, tmp_path: Path
) -> None:
    agent = start_agent(tmp_path / "agent", with_pin=True, policy=POLICY + INSPECT)
    texts = Texts("en")
    try:
        console = _open_settings(qtbot, data_dir(agent))
        box = console.settings_view.secure_sites
        assert box.current.text() == texts("inspect.now_needed")
        assert box.chosen() is InspectMode.NEEDED and box.save_button.isEnabled()
        assert "policy.toml" in box.note.text()
        _counted(qtbot, console, agent, PLAIN, "not_needed")  # passed through, checked by name
        assert _save(qtbot, console) == texts("inspect.unchanged")

        _choose(qtbot, console, InspectMode.EVERYTHING)
        assert _save(qtbot, console) == texts("inspect.saved_everything")
        text = console.service.policy()["text"]
        assert 'mode = "everything"              # fast at home' in text
        assert 'never = ["bank.example"]     # never the bank' in text
        assert "# Where secure sites are looked inside." in text
        _counted(qtbot, console, agent, PLAIN, "everything")  # the agent applied it
        _counted(qtbot, console, agent, "bank.example", "never")  # the list stayed in force
        qtbot.waitUntil(
            lambda: box.current.text() == texts("inspect.now_everything"), timeout=10_000
        )
        console.secure_sites.refresh()
        qtbot.waitUntil(lambda: box.coverage.text() == _coverage(console, texts), timeout=10_000)
        assert "Since the agent started: " in box.coverage.text()

        # A hand edit the agent refused leaves a file it will not take: a save is refused too.
        policy_file = agent.folder / "policy" / "policy.toml"
        policy_file.write_text(
            text.replace('never = ["bank.example"]', 'never = ["bank.example/login"]'),
            encoding="utf-8",
        )
        _choose(qtbot, console, InspectMode.NEEDED)
        refused = _save(qtbot, console)
        assert refused.startswith(texts("inspect.refused", message=""))
        assert "domains, not paths" in refused
        qtbot.waitUntil(lambda: box.chosen() is InspectMode.EVERYTHING, timeout=10_000)
        assert box.current.text() == texts("inspect.now_everything")
        _counted(qtbot, console, agent, PLAIN, "everything")  # the policy in force stays
        console.close()
    finally:
        stop_agent(agent)
