"""`abhaya tray` as a whole: menu actions against a real agent, and the icon process under a
real X server (Xvfb) with and without a tray host (trayer)."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from abhaya.ui.tray import launch
from abhaya.ui.tray.app import TrayApp
from abhaya.ui.tray.controller import Action, Level, MenuItem, TrayView
from abhaya.ui.tray.service import TrayService
from abhaya.ui.tray.words import Language
from tests.agent.test_cli import AgentProcess
from tests.client.test_commands import PIN, abhaya
from tests.conftest import write_policy
from tests.ui.tray.conftest import XServer, trayer, wait_until_docked

ABHAYA = [sys.executable, "-m", "abhaya.agent.cli"]


class Shown:
    """A presenter that keeps what the tray showed and said, as a parent would see it."""

    def __init__(self) -> None:
        self.views: list[TrayView] = []
        self.notices: list[tuple[str, str]] = []

    def show(self, shown: TrayView) -> None:
        self.views.append(shown)

    def notify(self, title: str, body: str) -> None:
        self.notices.append((title, body))


class Parent:
    """Answers the PIN dialog: each call takes the next answer (None: Cancel)."""

    def __init__(self, *answers: str | None) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    def __call__(self, reason: str, language: Language) -> str | None:
        self.asked.append(reason)
        return self.answers.pop(0)


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProcess]:
    folder = tmp_path_factory.mktemp("tray-app")
    process = AgentProcess(folder, write_policy(folder / "policy"))
    try:
        first = abhaya("set-pin", data_dir=folder / "data", pin_input=f"{PIN}\n{PIN}\n")
        assert first.returncode == 0, first.stderr
        yield process
    finally:
        process.process.kill()
        process.process.wait()


def make_app(agent: AgentProcess, parent: Parent) -> tuple[TrayApp, Shown]:
    data_dir = agent.folder / "data"
    app = TrayApp(data_dir, TrayService(data_dir), "en", ask_pin=parent)
    shown = Shown()
    app.attach(shown)
    return app, shown


def finish(worker: object) -> None:
    assert worker is not None, "the action was not started"
    worker.join(30)  # type: ignore[attr-defined]


def test_signing_in_at_start_then_pausing_and_resuming_from_the_menu(agent: AgentProcess) -> None:
    parent = Parent(PIN, PIN, PIN)
    app, shown = make_app(agent, parent)
    first, _ = app.deliver(app.service.read())
    assert first.level is Level.SIGNED_OUT
    # The first poll that needs a PIN asks for it by itself (in a worker thread).
    deadline = time.monotonic() + 30
    while not app.service.signed_in:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert parent.asked == ["Enter the parent PIN to see the state"]
    assert app.deliver(app.service.read())[0].level is Level.PROTECTED

    finish(app.act(Action.PAUSE_15))
    assert parent.asked[-1] == "Enter the parent PIN to pause protection"
    paused, _ = app.deliver(app.service.read())
    assert paused.level is Level.PAUSED
    assert [item.action for item in paused.menu if item.action] == [
        Action.OPEN_CONSOLE,
        Action.RESUME,
        Action.QUIT,
    ]
    finish(app.act(Action.RESUME))
    assert app.deliver(app.service.read())[0].level is Level.PROTECTED
    assert [view.level for view in shown.views][-1] is Level.PROTECTED


def test_a_cancelled_or_wrong_pin_changes_nothing_and_says_why(agent: AgentProcess) -> None:
    parent = Parent(None, "0000")
    app, shown = make_app(agent, parent)
    app.service.sign_in(PIN)
    finish(app.act(Action.PAUSE_60))
    assert app.deliver(app.service.read())[0].level is Level.PROTECTED
    assert shown.notices == []
    finish(app.act(Action.PAUSE_60))
    assert app.deliver(app.service.read())[0].level is Level.PROTECTED
    assert shown.notices and "PIN" in shown.notices[-1][1]


def test_a_console_that_cannot_start_is_reported(agent: AgentProcess, tmp_path: Path) -> None:
    failing = [sys.executable, "-c", "import sys; sys.exit('abhaya: no console in this build')"]
    data_dir = agent.folder / "data"
    app = TrayApp(
        data_dir,
        TrayService(data_dir),
        "en",
        ask_pin=Parent(),
        open_console=lambda folder, language: launch.open_console(folder, language, failing),
    )
    shown = Shown()
    app.attach(shown)
    finish(app.act(Action.OPEN_CONSOLE))
    assert shown.notices == [
        (
            "Abhaya",
            "the console could not be started (`abhaya console`): abhaya: no console in this build",
        )
    ]


class Pick:
    """Answers the popup menu: each call takes the next choice (None: clicked elsewhere)."""

    def __init__(self, *choices: Action | None) -> None:
        self.choices = list(choices)
        self.menus: list[tuple[str, ...]] = []

    def __call__(self, menu: Sequence[MenuItem], language: Language) -> Action | None:
        self.menus.append(tuple(item.label for item in menu))
        return self.choices.pop(0)


def test_a_click_without_a_menu_shows_the_popup_and_does_what_was_chosen(
    agent: AgentProcess,
) -> None:
    data_dir = agent.folder / "data"
    parent, pick = Parent(PIN), Pick(Action.PAUSE_15, None, Action.QUIT)
    app = TrayApp(data_dir, TrayService(data_dir), "en", ask_pin=parent, choose=pick)
    app.attach(Shown())
    app.service.sign_in(PIN)
    protected, _ = app.deliver(app.service.read())
    assert protected.level is Level.PROTECTED
    finish(app.act(Action.MENU))
    # The popup showed the same menu as the AppIndicator one, and its choice asked for the PIN.
    assert pick.menus == [tuple(item.label for item in protected.menu)]
    assert parent.asked == ["Enter the parent PIN to pause protection"]
    paused, _ = app.deliver(app.service.read())
    assert paused.level is Level.PAUSED
    finish(app.act(Action.MENU))  # clicked elsewhere: nothing happens
    assert pick.menus[-1] == tuple(item.label for item in paused.menu)
    assert app.deliver(app.service.read())[0].level is Level.PAUSED and not app.stop.is_set()
    finish(app.act(Action.MENU))
    assert app.stop.is_set()
    app.service.resume(PIN)


def test_quit_stops_the_tray(agent: AgentProcess) -> None:
    app, _ = make_app(agent, Parent())
    assert app.act(Action.QUIT) is None
    assert app.stop.is_set()


@contextlib.contextmanager
def running_tray(
    xserver: XServer, folder: Path
) -> Iterator[tuple[subprocess.Popen[str], Path, Path]]:
    """`abhaya tray` on `xserver` for a data folder no agent serves: (process, stdout file,
    stderr file).  Killed on the way out if the test did not stop it."""
    out, err = folder / "tray.out", folder / "tray.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(
            [*ABHAYA, "tray", "--data-dir", str(folder / "no-agent"), "--language", "en"]
            + ["--wait-for-tray", "0"],
            env={**xserver.env(), "PYTHONFAULTHANDLER": "1"},
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            text=True,
        )
    try:
        yield process, out, err
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def stops_cleanly(process: subprocess.Popen[str], signum: signal.Signals) -> None:
    """Stop the tray as a desktop session would, and check that it ended well."""
    assert process.poll() is None
    process.send_signal(signum)
    assert process.wait(30) == 0


def wait_for(path: Path, text: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while text not in path.read_text():
        assert process.poll() is None, f"the tray exited: {path.read_text()}"
        if time.monotonic() > deadline:
            # Where it is stuck: with PYTHONFAULTHANDLER set (running_tray), SIGABRT makes the
            # tray write every thread's stack to its stderr before it dies.
            process.send_signal(signal.SIGABRT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(10)
            stacks = path.with_name("tray.err").read_text()
            raise AssertionError(f"{text!r} never appeared in {path.name}; stderr:\n{stacks}")
        time.sleep(0.1)


def test_the_icon_docks_in_a_real_tray_host_and_stops_on_request(
    tray_host: XServer, tmp_path: Path
) -> None:
    with running_tray(tray_host, tmp_path) as (process, out, err):
        wait_for(out, "the tray icon is up (xorg: tray host found", process)
        icon = wait_until_docked(tray_host.display)
        # No agent runs for this data folder: the icon says so.
        assert icon.title == "Abhaya: there is a problem: the Abhaya agent is not answering"
        stops_cleanly(process, signal.SIGTERM)
    assert "the tray is closed" in out.read_text()
    assert "Traceback" not in err.read_text()


def test_the_icon_docks_again_in_a_tray_host_that_restarts(
    xserver: XServer, tmp_path: Path
) -> None:
    """A panel restarted (or one whose first dock request was lost) gets the icon back: the
    tray asks again while its icon is in no tray (`TrayIcon.keep_docked`)."""
    with running_tray(xserver, tmp_path) as (process, out, err):
        with trayer(xserver):
            wait_for(out, "the tray icon is up (xorg: tray host found", process)
            wait_until_docked(xserver.display)
        with trayer(xserver):
            assert wait_until_docked(xserver.display).docked
        stops_cleanly(process, signal.SIGTERM)
    assert "Traceback" not in err.read_text()


def test_without_a_tray_host_it_says_what_to_install_and_notifies(
    xserver: XServer, tmp_path: Path
) -> None:
    with running_tray(xserver, tmp_path) as (process, _, err):
        wait_for(err, "gnome-shell-extension-appindicator", process)
        # The agent is absent: the fallback notification says so (printed when, as here, no
        # notification service runs).
        wait_for(err, "Abhaya needs attention: the Abhaya agent is not answering", process)
        stops_cleanly(process, signal.SIGINT)
    assert "Traceback" not in err.read_text()
