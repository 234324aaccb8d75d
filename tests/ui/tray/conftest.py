"""A real X server (Xvfb) and a real tray host (trayer) for the tray's smoke tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class XServer:
    display: str

    def env(self) -> dict[str, str]:
        """This process's environment on this display, with pystray's X11 backend."""
        return {**os.environ, "DISPLAY": self.display, "PYSTRAY_BACKEND": "xorg"}


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def xserver() -> Iterator[XServer]:
    """A fresh Xvfb on a free display number (it writes the number it took to a pipe)."""
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is missing: scripts/test.sh installs the xvfb package")
    read, write = os.pipe()
    process = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "640x480x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    try:
        assert number, "Xvfb did not start"
        _wait_accepting(f":{number}", process)
        yield XServer(f":{number}")
    finally:
        _stop(process)


def _wait_accepting(display_name: str, process: subprocess.Popen[bytes]) -> None:
    """Until a client can connect: under load, trayer started right after Xvfb wrote its
    display number once failed with "cannot open display"."""
    import Xlib.display
    import Xlib.error

    deadline = time.monotonic() + 20
    while True:
        try:
            Xlib.display.Display(display_name).close()
            return
        except (Xlib.error.DisplayError, ConnectionError):
            assert process.poll() is None, "Xvfb exited"
            assert time.monotonic() < deadline, f"Xvfb on {display_name} never accepted a client"
            time.sleep(0.05)


@contextlib.contextmanager
def trayer(xserver: XServer) -> Iterator[subprocess.Popen[bytes]]:
    """trayer hosting a freedesktop system tray on the Xvfb display, once it owns the tray."""
    from abhaya.ui.tray.host import find_tray

    said = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    process = subprocess.Popen(
        ["trayer", "--edge", "top", "--widthtype", "request", "--heighttype", "pixel"],
        env=xserver.env(),
        stdout=said,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        # trayer takes the tray selection before its panel is up; a dock request sent in
        # between is lost (pystray sends one), so wait for the panel to be shown as well.
        while not (find_tray(xserver.env()).available and _panel_shown(xserver.display)):
            if process.poll() is not None:
                said.seek(0)
                pytest.fail(f"trayer exited ({process.returncode}): {said.read()[-2000:]!r}")
            assert time.monotonic() < deadline, "trayer never took the tray selection"
            time.sleep(0.1)
        time.sleep(0.5)
        yield process
    finally:
        _stop(process)
        said.close()


@pytest.fixture
def tray_host(xserver: XServer) -> Iterator[XServer]:
    with trayer(xserver):
        yield xserver


def _panel_shown(display_name: str) -> bool:
    import Xlib.display
    from Xlib import X

    display = Xlib.display.Display(display_name)
    try:
        return any(
            child.get_wm_class() == ("panel", "trayer")
            and child.get_attributes().map_state == X.IsViewable
            for child in display.screen().root.query_tree().children
        )
    finally:
        display.close()


@dataclass(frozen=True)
class IconWindow:
    title: str
    docked: bool
    """Its parent is a tray host's window, not the screen's root: the icon is in the tray."""
    centre: tuple[int, int]
    """Where to click it, in screen coordinates."""


def find_icon_window(display_name: str) -> IconWindow | None:
    """The tray's icon window (pystray names its X window class `abhayaSystemTrayIcon`)."""
    import Xlib.display

    display = Xlib.display.Display(display_name)
    try:
        root = display.screen().root
        pending = [root]
        while pending:
            window = pending.pop()
            for child in window.query_tree().children:
                pending.append(child)
                if child.get_wm_class() == ("abhayaSystemTrayIcon", "abhaya"):
                    name = child.get_wm_name()
                    title = name.decode() if isinstance(name, bytes) else str(name)
                    docked = child.query_tree().parent.id != root.id
                    size, at = child.get_geometry(), child.translate_coords(root, 0, 0)
                    centre = (size.width // 2 - at.x, size.height // 2 - at.y)
                    return IconWindow(title, docked, centre)
        return None
    finally:
        display.close()


def wait_until_docked(display_name: str) -> IconWindow:
    deadline = time.monotonic() + 20
    while (icon := find_icon_window(display_name)) is None or not icon.docked:
        assert time.monotonic() < deadline, f"the icon never docked: {icon}"
        time.sleep(0.1)
    return icon
