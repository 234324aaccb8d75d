"""A real `abhaya run` for the console's tests, and the console built against it.

The agent is a child process with its real proxy, store (SQLCipher, key in the test session's
gnome-keyring) and control API, as in tests/client/test_commands.py; the console is the real
`Console` with real widgets on the offscreen platform.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from abhaya.ui.console.app import Console
from abhaya.ui.console.service import CALL_TIMEOUT_S, ConsoleService
from abhaya.ui.console.settings import ConsoleSettings, save_settings
from abhaya.ui.console.texts import Texts
from tests.agent.test_cli import AgentProcess
from tests.client.test_commands import PIN, abhaya
from tests.conftest import POLICY, write_policy

ARTIFACTS = Path(os.environ.get("ABHAYA_TEST_ARTIFACTS", "test-artifacts")) / "console"


def trust_store(folder: Path) -> Path:
    """The agent's stand-in for the system trust bundle (`abhaya run --trust-store`)."""
    return folder / "trust-store.crt"


def start_agent(folder: Path, *, with_pin: bool, policy: str = POLICY) -> AgentProcess:
    """An agent whose trust store holds its CA, as after an install (a test empties it to see
    the CA untrusted); the real system store is never read or changed."""
    store = trust_store(folder)
    policy_file = write_policy(folder / "policy", policy)
    process = AgentProcess(folder, policy_file, ("--trust-store", str(store)))
    store.write_bytes((folder / "data/ca/abhaya-ca.pem").read_bytes())
    if with_pin:
        result = abhaya("set-pin", data_dir=folder / "data", pin_input=f"{PIN}\n{PIN}\n")
        assert result.returncode == 0, result.stderr
    return process


def stop_agent(process: AgentProcess) -> None:
    if process.process.poll() is None:
        process.process.kill()
        process.process.wait()


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProcess]:
    """One agent with the parent PIN set, shared by a module's tests (none of them stops it)."""
    process = start_agent(tmp_path_factory.mktemp("console"), with_pin=True)
    try:
        yield process
    finally:
        stop_agent(process)


def data_dir(agent: AgentProcess) -> Path:
    return agent.folder / "data"


def open_console(
    qtbot: QtBot,
    folder: Path,
    language: str = "en",
    timeout: float = CALL_TIMEOUT_S,
    **options: Any,
) -> Console:
    """`options` are further `Console` arguments (its settings file, the accounts offered).

    Without a settings file of its own, the console gets one beside the agent's data (never
    the real user's) in which the first-start walk-through was skipped, so it does not open
    over the window of tests about other pages (tests/ui/console/test_walkthrough.py opens it).
    """
    if "settings_path" not in options:
        options["settings_path"] = folder.parent / "console-walkthrough-skipped.toml"
        save_settings(options["settings_path"], ConsoleSettings(language, setup_skipped=True))
    console = Console(ConsoleService(folder, timeout), Texts(language), **options)
    qtbot.addWidget(console.window)
    console.start()
    return console


def sign_in(qtbot: QtBot, console: Console, pin: str = PIN) -> None:
    """Type the PIN into the real dialog and wait for the first dashboard."""
    qtbot.waitUntil(lambda: console.dialog is not None, timeout=10_000)
    assert console.dialog is not None and not console.dialog.first
    console.dialog.pin.setText(pin)
    qtbot.keyClick(console.dialog.pin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: console.dashboard.state is not None, timeout=10_000)


@pytest.fixture
def console(qtbot: QtBot, agent: AgentProcess) -> Iterator[Console]:
    """A console signed in to the shared agent."""
    opened = open_console(qtbot, data_dir(agent))
    sign_in(qtbot, opened)
    yield opened
    opened.close()


def screenshot(widget: QWidget, name: str, scale: float) -> Path:
    """Render `widget` at `scale` device pixels per point, as a 150% desktop would."""
    size = widget.size()
    pixmap = QPixmap(round(size.width() * scale), round(size.height() * scale))
    pixmap.setDevicePixelRatio(scale)
    pixmap.fill(Qt.GlobalColor.white)
    widget.render(pixmap)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = (ARTIFACTS / f"{name}-{round(scale * 100)}.png").absolute()
    assert pixmap.save(str(path))
    return path
