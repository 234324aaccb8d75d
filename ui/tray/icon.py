"""The pystray icon: draws the state's colour and builds the menu from a TrayView.

Layout only: what to show comes from `controller.view`, what a click does from the callback.
A backend that draws no menu (pystray's X11 one: `HAS_MENU` False) gets one default item
instead, whose click asks for the menu as a popup of the tray's own (`Action.MENU`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PIL import Image, ImageDraw

from abhaya.ui.tray.controller import Action, Colour, TrayView

SIZE = 64


def icon_image(colour: Colour) -> Image.Image:
    """A filled disc in the state's colour with a white open-hand bar (the abhaya gesture)."""
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((2, 2, SIZE - 3, SIZE - 3), fill=(*colour, 255))
    draw.rounded_rectangle((24, 14, 40, 50), radius=6, fill=(255, 255, 255, 255))
    return image


def _listen_for_clicks(icon: Any) -> None:
    """Make pystray's X11 icon window hear mouse clicks.

    pystray 0.19.5 (pinned) handles ButtonPress on its X11 icon window but creates the window
    without ButtonPressMask, so the X server never sends it a click: the click goes to the tray
    host, and the icon's default action never runs (pystray issue #151).  Adding the mask to
    the window it made (before its loop starts) is what the backend means to do.  Another
    backend or version without these attributes is left alone.
    """
    window, display = getattr(icon, "_window", None), getattr(icon, "_display", None)
    if window is None or display is None:
        return
    from Xlib import X

    window.change_attributes(event_mask=X.ExposureMask | X.StructureNotifyMask | X.ButtonPressMask)
    display.flush()


class _QuietDockFailures(logging.Filter):
    """pystray logs "Failed to dock icon" with a traceback whenever there is no tray host to
    dock in (a panel restarting, a host that is not up yet).  The tray asks again by itself
    (`TrayIcon.keep_docked`), so that is one plain line, not an error with a stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage() == "Failed to dock icon":
            record.msg, record.args = "no tray host took the icon yet; asking again shortly", ()
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info, record.exc_text = None, None
        return True


def _in_a_tray(window_id: int) -> bool:
    """Whether the X11 icon window sits in a tray host's window (its parent is not the root).
    Asked over a connection of its own: pystray's belongs to its loop's thread.  An X error
    counts as docked, so that a broken display never makes the icon ask again and again."""
    import Xlib.display
    import Xlib.error

    try:
        display = Xlib.display.Display()
    except (Xlib.error.DisplayError, OSError):
        return True
    try:
        window = display.create_resource_object("window", window_id)
        return bool(window.query_tree().parent.id != display.screen().root.id)
    except Xlib.error.XError:
        return True
    finally:
        display.close()


class TrayIcon:
    """One pystray icon; `show` may be called from any thread (pystray allows it)."""

    def __init__(self, first: TrayView, on_action: Callable[[Action], object]) -> None:
        import pystray

        self._pystray = pystray
        self._on_action = on_action
        self.icon: Any = pystray.Icon(
            "abhaya", icon=icon_image(first.colour), title=first.tooltip, menu=self._menu(first)
        )
        self._shown = first
        if not self.has_menu:
            _listen_for_clicks(self.icon)
            pystray_log = getattr(self.icon, "_log", None)
            if isinstance(pystray_log, logging.Logger):
                pystray_log.addFilter(_QuietDockFailures())

    @property
    def has_menu(self) -> bool:
        return bool(self._pystray.Icon.HAS_MENU)

    def _menu(self, shown: TrayView) -> Any:
        pystray = self._pystray
        if not self.has_menu:
            popup = self._callback(Action.MENU)
            return pystray.Menu(pystray.MenuItem(shown.tooltip, popup, default=True))
        items = []
        for item in shown.menu:
            action = item.action
            if action is None:
                items.append(pystray.MenuItem(item.label, None, enabled=False))
            else:
                items.append(
                    pystray.MenuItem(item.label, self._callback(action), default=item.default)
                )
        return pystray.Menu(*items)

    def _callback(self, action: Action) -> Callable[[Any, Any], None]:
        def clicked(_icon: Any, _item: Any) -> None:
            self._on_action(action)

        return clicked

    @property
    def can_notify(self) -> bool:
        return bool(self.icon.HAS_NOTIFICATION)

    def show(self, shown: TrayView) -> None:
        if shown.colour != self._shown.colour:
            self.icon.icon = icon_image(shown.colour)
        if shown.tooltip != self._shown.tooltip:
            self.icon.title = shown.tooltip
        if shown.menu != self._shown.menu:
            self.icon.menu = self._menu(shown)
            self.icon.update_menu()
        self._shown = shown

    def keep_docked(self) -> None:
        """On X11, ask the tray host again to take the icon while it is not in a tray.

        pystray's X11 backend sends its dock request when the icon is shown and when its image
        changes, and once more when the tray host's window goes away.  A request that reaches
        a host still building its panel is lost, and a host that comes back after a restart is
        never asked: the icon would stay hidden until its colour next changes.  Setting the
        same image again is pystray's own way of sending the request (from any thread).
        Other backends dock by themselves.
        """
        window = getattr(self.icon, "_window", None)
        if self.has_menu or window is None or _in_a_tray(window.id):
            return
        self.icon.icon = icon_image(self._shown.colour)

    def notify(self, title: str, body: str) -> None:
        self.icon.notify(body, title)

    def run(self, on_ready: Callable[[], None]) -> None:
        """pystray's loop (blocking) until `stop`; `on_ready` runs once the icon is up."""

        def setup(icon: Any) -> None:
            icon.visible = True
            on_ready()

        self.icon.run(setup)

    def stop(self) -> None:
        self.icon.stop()
