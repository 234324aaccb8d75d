"""Is there a tray on this desktop, and how to notify when there is not.

pystray shows nothing and says nothing when no tray host runs (GNOME without the AppIndicator
extension, a bare window manager), so the tray asks first: for the xorg backend, whether some
window owns the X tray selection; for the AppIndicator backend, whether a StatusNotifierWatcher
is on the session bus.  Without a tray the parent is told what to install, and new requests
and alerts come as desktop notifications (notify-send, the freedesktop D-Bus service).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass

TRAY_WAIT_S = 15.0
"""At login the panel may come up after the autostart entry runs: wait this long for it."""

NO_TRAY_HINT = (
    "abhaya: no system tray was found on this desktop, so the tray icon cannot be shown; "
    "new requests and alerts will come as desktop notifications instead.  On GNOME, install "
    "the AppIndicator extension (Debian and Ubuntu: sudo apt install "
    "gnome-shell-extension-appindicator), turn it on in Extensions, and log in again."
)


@dataclass(frozen=True, slots=True)
class TrayHost:
    available: bool
    backend: str
    """The pystray backend to use: "xorg" or "appindicator" (or what PYSTRAY_BACKEND says)."""
    detail: str


def pick_backend(environ: Mapping[str, str]) -> str:
    """pystray's own order on Linux is appindicator, gtk, xorg; the first two need PyGObject."""
    chosen = environ.get("PYSTRAY_BACKEND")
    if chosen:
        return chosen
    return "appindicator" if importlib.util.find_spec("gi") is not None else "xorg"


def find_tray(environ: Mapping[str, str] | None = None) -> TrayHost:
    env = os.environ if environ is None else environ
    backend = pick_backend(env)
    if backend == "xorg":
        return _x_tray(env, backend)
    if backend in ("appindicator", "gtk"):
        return _status_notifier(backend)
    return TrayHost(True, backend, f"backend {backend} (not checked)")


def _x_tray(env: Mapping[str, str], backend: str) -> TrayHost:
    display_name = env.get("DISPLAY")
    if not display_name:
        return TrayHost(False, backend, "no X display (DISPLAY is not set)")
    import Xlib.display
    import Xlib.error
    from Xlib import X

    try:
        display = Xlib.display.Display(display_name)
    except (Xlib.error.DisplayError, OSError) as error:
        return TrayHost(False, backend, f"cannot open X display {display_name}: {error}")
    try:
        selection = display.intern_atom(f"_NET_SYSTEM_TRAY_S{display.get_default_screen()}")
        owner = display.get_selection_owner(selection)
    finally:
        display.close()
    if owner == X.NONE:
        return TrayHost(False, backend, f"no tray host owns the tray on {display_name}")
    return TrayHost(True, backend, f"tray host found on {display_name}")


def _status_notifier(backend: str) -> TrayHost:
    dbus_send = shutil.which("dbus-send")
    if dbus_send is None:
        return TrayHost(True, backend, "dbus-send missing: tray host not checked")
    answer = subprocess.run(
        [
            dbus_send,
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            "string:org.kde.StatusNotifierWatcher",
        ],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    if answer.returncode == 0 and "boolean true" in answer.stdout:
        return TrayHost(True, backend, "StatusNotifierWatcher found on the session bus")
    return TrayHost(False, backend, "no StatusNotifierWatcher on the session bus")


class DesktopNotifier:
    """Desktop notifications through notify-send; printed on stderr when it is missing."""

    def __init__(self, program: str | None = None) -> None:
        self._program = program if program is not None else shutil.which("notify-send")

    def notify(self, title: str, body: str) -> None:
        if self._program is None:
            print(f"abhaya: {title}: {body}", file=sys.stderr, flush=True)
            return
        result = subprocess.run(
            [self._program, "--app-name=Abhaya", title, body],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if result.returncode != 0:
            # No notification service either: the message must still reach someone.
            print(f"abhaya: {title}: {body}", file=sys.stderr, flush=True)
