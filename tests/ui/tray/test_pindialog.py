"""The PIN dialog as the tray runs it: `abhaya tray --ask-pin` on a real X server (Xvfb),
typed into through the XTEST extension as a parent's keyboard would."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from abhaya.ui.tray import launch
from tests.ui.tray.conftest import XServer


class Asking:
    """`launch.ask_pin` running in a thread (it waits for the dialog to close)."""

    def __init__(self) -> None:
        self.answer: str | None = None
        self.error: Exception | None = None
        self.thread = threading.Thread(target=self._ask, daemon=True)
        self.thread.start()

    def _ask(self) -> None:
        try:
            self.answer = launch.ask_pin("Enter the parent PIN to pause protection", "en")
        except Exception as error:  # noqa: BLE001 - handed to the test to show
            self.error = error

    def result(self) -> str | None:
        self.thread.join(60)
        assert not self.thread.is_alive(), "the dialog never closed"
        if self.error is not None:
            raise self.error
        return self.answer


@pytest.fixture
def dialog_display(xserver: XServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[XServer]:
    """The dialog's process inherits this environment: Qt's X11 platform on the Xvfb."""
    monkeypatch.setenv("DISPLAY", xserver.display)
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    yield xserver


def type_into_dialog(display_name: str, keys: list[str]) -> None:
    """Wait for the dialog's window, give it the keyboard focus, and press `keys` (X keysym
    names) through XTEST."""
    import Xlib.display
    from Xlib import XK, X
    from Xlib.ext import xtest

    display = Xlib.display.Display(display_name)
    try:
        window = None
        deadline = time.monotonic() + 30
        while window is None:
            assert time.monotonic() < deadline, "the PIN dialog never appeared"
            for child in display.screen().root.query_tree().children:
                if child.get_wm_name() == "Abhaya: Parent PIN":
                    attributes = child.get_attributes()
                    if attributes.map_state == X.IsViewable:
                        window = child
            time.sleep(0.1)
        time.sleep(0.5)  # Qt finishes laying the dialog out
        display.set_input_focus(window, X.RevertToParent, X.CurrentTime)
        display.sync()
        time.sleep(0.3)
        for key in keys:
            code = display.keysym_to_keycode(XK.string_to_keysym(key))
            xtest.fake_input(display, X.KeyPress, code)
            xtest.fake_input(display, X.KeyRelease, code)
            display.sync()
            time.sleep(0.05)
    finally:
        display.close()


def test_the_typed_pin_comes_back_to_the_tray(dialog_display: XServer) -> None:
    asking = Asking()
    type_into_dialog(dialog_display.display, ["2", "4", "6", "8", "Return"])
    assert asking.result() == "2468"


def test_the_field_takes_digits_only(dialog_display: XServer) -> None:
    asking = Asking()
    type_into_dialog(dialog_display.display, ["1", "a", "3", "space", "5", "7", "Return"])
    assert asking.result() == "1357"


def test_escape_cancels(dialog_display: XServer) -> None:
    asking = Asking()
    type_into_dialog(dialog_display.display, ["9", "Escape"])
    assert asking.result() is None


def test_a_dialog_that_cannot_run_is_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(launch.LaunchError, match="the PIN dialog failed"):
        launch.ask_pin("Enter the parent PIN", "en")
