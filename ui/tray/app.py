"""`abhaya tray`: wires the service, the poller, the controller and the icon together.

The icon's loop runs in a thread of its own and the main thread only waits for a stop (the
menu's Close, SIGTERM, SIGINT), so a signal always ends the tray cleanly.  Menu actions run in
a worker thread, one at a time, since they wait on the PIN dialog and the API; where the
icon has no menu of its own (pystray's X11 backend), a click shows the menu as a Qt popup
(`launch.choose_from_menu`) and the action chosen there runs in that same worker.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Protocol

from abhaya.client.api import ClientError
from abhaya.ui.tray import launch
from abhaya.ui.tray.controller import (
    PAUSE_MINUTES,
    Action,
    MenuItem,
    Notice,
    Poll,
    Seen,
    SignedOut,
    TrayView,
    news,
    seen,
    view,
)
from abhaya.ui.tray.host import (
    NO_TRAY_HINT,
    TRAY_WAIT_S,
    DesktopNotifier,
    TrayHost,
    find_tray,
)
from abhaya.ui.tray.poller import POLL_SECONDS, Poller
from abhaya.ui.tray.service import TrayService
from abhaya.ui.tray.words import Language, say

LOOP_STOP_S = 3.0
"""How long to wait for pystray's loop to end after `stop` before exiting anyway."""
DOCK_CHECK_TICKS = 4
"""Every 4 half-second ticks (2 s) the icon checks that it is still in a tray (`keep_docked`)."""


class Presenter(Protocol):
    def show(self, shown: TrayView) -> None: ...
    def notify(self, title: str, body: str) -> None: ...


class NotificationsOnly:
    """The fallback without a tray: no icon, only notifications for what is new."""

    def __init__(self, notifier: DesktopNotifier) -> None:
        self._notifier = notifier

    def show(self, shown: TrayView) -> None:
        """Nothing to draw: the state changes reach the parent through `notify`."""

    def notify(self, title: str, body: str) -> None:
        self._notifier.notify(title, body)


class TrayApp:
    """Turns polls into what the presenter shows, and menu actions into API calls."""

    def __init__(
        self,
        data_dir: Path,
        service: TrayService,
        language: Language,
        *,
        ask_pin: Callable[[str, Language], str | None] = launch.ask_pin,
        choose: Callable[[Sequence[MenuItem], Language], Action | None] = launch.choose_from_menu,
        open_console: Callable[[Path, Language], object] = launch.open_console,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.data_dir = data_dir
        self.service = service
        self.language = language
        self._ask_pin = ask_pin
        self._choose = choose
        self._open_console = open_console
        self._clock = clock
        self._seen: Seen | None = None
        self._asked_at_start = False
        self._busy = threading.Lock()
        self.presenter: Presenter | None = None
        self._held: list[Notice] = []
        """Notices of polls made before a presenter was attached (the first poll)."""
        self.poller: Poller | None = None
        self.stop = threading.Event()
        self.shown: TrayView | None = None

    def deliver(self, poll: Poll) -> tuple[TrayView, list[Notice]]:
        """Show one poll; the first time the agent wants a PIN, ask for it (off this thread)."""
        shown = view(poll, self._clock(), self.language)
        notices = news(self._seen, poll, shown, self.language)
        self._seen = seen(poll, shown, self._seen)
        self.shown = shown
        if self.presenter is None:
            self._held += notices
        else:
            self.presenter.show(shown)
            for notice in notices:
                self.presenter.notify(notice.title, notice.body)
        if isinstance(poll, SignedOut) and poll.pin_set and not self._asked_at_start:
            self._asked_at_start = True
            self.act(Action.SIGN_IN)
        return shown, notices

    def attach(self, presenter: Presenter) -> None:
        """Show through `presenter` from now on, starting with what is already known."""
        self.presenter = presenter
        if self.shown is not None:
            presenter.show(self.shown)
        held, self._held = self._held, []
        for notice in held:
            presenter.notify(notice.title, notice.body)

    def act(self, action: Action) -> threading.Thread | None:
        """Run a menu action in a worker thread (returned, to wait on it); ignored (None) while
        another one is running."""
        if action is Action.QUIT:
            self.stop.set()
            return None
        if not self._busy.acquire(blocking=False):
            return None
        worker = threading.Thread(target=self._act, args=(action,), daemon=True)
        worker.start()
        return worker

    def _act(self, action: Action) -> None:
        try:
            self._do(action)
        except (ClientError, launch.LaunchError) as error:
            self._tell(str(error))
        finally:
            self._busy.release()
        if self.poller is not None:
            self.poller.poke()

    def _do(self, action: Action) -> None:
        if action is Action.MENU:
            self._from_menu()
            return
        if action is Action.OPEN_CONSOLE:
            self._open_console(self.data_dir, self.language)
            return
        why = {
            Action.SIGN_IN: "pin_why_sign_in",
            Action.RESUME: "pin_why_resume",
        }.get(action, "pin_why_pause")
        pin = self._ask_pin(say(self.language, why), self.language)
        if pin is None:
            return
        if action is Action.SIGN_IN:
            self.service.sign_in(pin)
        elif action is Action.RESUME:
            self.service.resume(pin)
        else:
            self.service.pause(pin, PAUSE_MINUTES[action])

    def _from_menu(self) -> None:
        """The click on an icon without a menu of its own: show the current view's menu as a
        popup and do what the parent chose there (in this same worker)."""
        menu = self.shown.menu if self.shown is not None else ()
        chosen = self._choose(menu, self.language)
        if chosen is Action.QUIT:
            self.stop.set()
        elif chosen is not None and chosen is not Action.MENU:
            self._do(chosen)

    def _tell(self, message: str) -> None:
        print(f"abhaya: {message}", file=sys.stderr, flush=True)
        if self.presenter is not None:
            self.presenter.notify(say(self.language, "name"), message)


def wait_for_tray(seconds: float, stop: threading.Event) -> TrayHost:
    host = find_tray()
    deadline = time.monotonic() + seconds
    while not host.available and time.monotonic() < deadline and not stop.wait(1.0):
        host = find_tray()
    return host


def run(
    data_dir: Path,
    language: Language,
    *,
    tray_wait: float = TRAY_WAIT_S,
    interval: float = POLL_SECONDS,
) -> int:
    app = TrayApp(data_dir, TrayService(data_dir), language)

    def on_signal(_number: int, _frame: FrameType | None) -> None:
        app.stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    host = wait_for_tray(tray_wait, app.stop)
    first, _ = app.deliver(app.service.read())
    poller = app.poller = Poller(app.service.read, app.deliver, interval)
    if not host.available:
        print(f"{NO_TRAY_HINT}\n  ({host.detail})", file=sys.stderr, flush=True)
        app.attach(NotificationsOnly(DesktopNotifier()))
        poller.start()
        app.stop.wait()
        poller.stop()
        return 0
    return _run_icon(app, poller, host, first)


def _run_icon(app: TrayApp, poller: Poller, host: TrayHost, first: TrayView) -> int:

    # pystray picks its backend when imported; make it the one whose tray was found.
    os.environ["PYSTRAY_BACKEND"] = host.backend
    from abhaya.ui.tray.icon import TrayIcon

    icon = TrayIcon(first, app.act)
    notifier = DesktopNotifier()

    class IconPresenter:
        def show(self, shown: TrayView) -> None:
            icon.show(shown)

        def notify(self, title: str, body: str) -> None:
            if icon.can_notify:
                icon.notify(title, body)
            else:
                notifier.notify(title, body)

    up = threading.Event()

    def ready() -> None:
        print(f"abhaya: the tray icon is up ({host.backend}: {host.detail})", flush=True)
        up.set()

    # A daemon thread, as a safety net: pystray's X loop has been seen to miss the
    # DestroyNotify of its own window after `stop` and would then keep the process alive; the
    # window is gone by then and nothing is left to save.
    loop = threading.Thread(target=icon.run, args=(ready,), name="abhaya-tray-icon", daemon=True)
    loop.start()
    # Updates and notifications only once the icon is shown: nothing else touches pystray
    # while it docks.
    while not up.wait(0.5) and loop.is_alive() and not app.stop.is_set():
        pass
    app.attach(IconPresenter())
    poller.start()
    ticks = 0
    while not app.stop.wait(0.5):
        if not loop.is_alive():
            print("abhaya: the tray icon's loop ended", file=sys.stderr, flush=True)
            break
        ticks += 1
        if ticks % DOCK_CHECK_TICKS == 0:
            icon.keep_docked()
    poller.stop()
    icon.stop()
    loop.join(LOOP_STOP_S)
    if loop.is_alive():
        print("abhaya: the icon's loop did not end; closing anyway", file=sys.stderr, flush=True)
    print("abhaya: the tray is closed", flush=True)
    return 0
