"""The tray's own menu for pystray's X11 backend: the Qt popup (`abhaya tray --menu`) on a real
X server (Xvfb) driven through XTEST as a parent's keyboard and mouse would, the whole tray
under a real tray host (trayer) opening it from a click on its icon, and pictures of it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from abhaya.ui.tray import launch
from abhaya.ui.tray.controller import Action, MenuItem
from abhaya.ui.tray.menuwire import menu_json, read_menu
from abhaya.ui.tray.popup import build_menu
from abhaya.ui.tray.words import Language, say
from tests.ui.console.conftest import screenshot
from tests.ui.tray.conftest import XServer, wait_until_docked
from tests.ui.tray.test_app import running_tray, wait_for


def menu(language: Language) -> tuple[MenuItem, ...]:
    return (
        MenuItem(say(language, "open_console"), Action.OPEN_CONSOLE, default=True),
        MenuItem(say(language, "requests_many", n=2), None),
        MenuItem(say(language, "alerts_one"), None),
        MenuItem(say(language, "pause_15"), Action.PAUSE_15),
        MenuItem(say(language, "pause_60"), Action.PAUSE_60),
        MenuItem(say(language, "quit"), Action.QUIT),
    )


class Choosing:
    """`launch.choose_from_menu` running in a thread (it waits for the popup to close)."""

    def __init__(self) -> None:
        self.answer: Action | None = None
        self.error: Exception | None = None
        self.thread = threading.Thread(target=self._choose, daemon=True)
        self.thread.start()

    def _choose(self) -> None:
        try:
            self.answer = launch.choose_from_menu(menu("en"), "en")
        except Exception as error:  # noqa: BLE001 - handed to the test to show
            self.error = error

    def result(self) -> Action | None:
        self.thread.join(60)
        assert not self.thread.is_alive(), "the popup never closed"
        if self.error is not None:
            raise self.error
        return self.answer


@pytest.fixture
def popup_display(xserver: XServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[XServer]:
    """The popup's process inherits this environment: Qt's X11 platform on the Xvfb."""
    monkeypatch.setenv("DISPLAY", xserver.display)
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    yield xserver


def _on_display(display_name: str, act: Callable[..., None]) -> None:
    import Xlib.display

    display = Xlib.display.Display(display_name)
    try:
        act(display)
    finally:
        display.close()


def wait_for_popup(display_name: str, title: str = "Abhaya: menu") -> None:
    from Xlib import X

    def shown(display: object) -> None:
        deadline = time.monotonic() + 30
        while True:
            root = display.screen().root  # type: ignore[attr-defined]
            if any(
                child.get_wm_name() == title and child.get_attributes().map_state == X.IsViewable
                for child in root.query_tree().children
            ):
                break
            assert time.monotonic() < deadline, "the popup menu never appeared"
            time.sleep(0.1)
        time.sleep(0.5)  # Qt finishes laying the menu out and grabs the keyboard

    _on_display(display_name, shown)


def press(display_name: str, keys: list[str]) -> None:
    """Press `keys` (X keysym names) through XTEST; the open popup has the keyboard."""
    from Xlib import XK, X
    from Xlib.ext import xtest

    def typed(display: object) -> None:
        for key in keys:
            code = display.keysym_to_keycode(XK.string_to_keysym(key))  # type: ignore[attr-defined]
            xtest.fake_input(display, X.KeyPress, code)
            xtest.fake_input(display, X.KeyRelease, code)
            display.sync()  # type: ignore[attr-defined]
            time.sleep(0.05)

    _on_display(display_name, typed)


def test_the_action_chosen_in_the_popup_comes_back_to_the_tray(popup_display: XServer) -> None:
    choosing = Choosing()
    wait_for_popup(popup_display.display)
    # Down: the first item; Down again skips the two lines that only inform.
    press(popup_display.display, ["Down", "Down", "Return"])
    assert choosing.result() is Action.PAUSE_15


def test_escape_chooses_nothing(popup_display: XServer) -> None:
    choosing = Choosing()
    wait_for_popup(popup_display.display)
    press(popup_display.display, ["Escape"])
    assert choosing.result() is None


def test_a_popup_that_cannot_run_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(launch.LaunchError, match="the menu failed"):
        launch.choose_from_menu(menu("en"), "en")


def test_a_click_on_the_icon_opens_the_menu_and_close_ends_the_tray(
    tray_host: XServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from Xlib import X
    from Xlib.ext import xtest

    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")  # the popup's process: on the Xvfb
    with running_tray(tray_host, tmp_path) as (process, out, err):
        wait_for(out, "the tray icon is up (xorg", process)
        x, y = wait_until_docked(tray_host.display).centre

        def click(display: object) -> None:
            xtest.fake_input(display, X.MotionNotify, x=x, y=y)
            display.sync()  # type: ignore[attr-defined]
            time.sleep(0.2)
            xtest.fake_input(display, X.ButtonPress, 1)
            xtest.fake_input(display, X.ButtonRelease, 1)
            display.sync()  # type: ignore[attr-defined]

        _on_display(tray_host.display, click)
        wait_for_popup(tray_host.display)
        # No agent runs here: the menu is "Open the console" and "Close the tray".
        press(tray_host.display, ["Up", "Return"])
        assert process.wait(30) == 0
    assert "the tray is closed" in out.read_text()
    assert "Traceback" not in err.read_text()


@pytest.mark.parametrize("language", ["en", "hi"])
def test_the_popup_is_pictured_in_each_language_and_scale(qtbot: QtBot, language: Language) -> None:
    popup = build_menu(read_menu(menu_json(menu(language))), language)
    qtbot.addWidget(popup)
    popup.resize(popup.sizeHint())
    labels = [entry.text() for entry in popup.actions()]
    assert labels == [item.label for item in menu(language)]
    assert [entry.isEnabled() for entry in popup.actions()] == [1, 0, 0, 1, 1, 1]
    for scale in (1.0, 1.5):
        assert screenshot(popup, f"tray-menu-{language}", scale).stat().st_size > 1_000
