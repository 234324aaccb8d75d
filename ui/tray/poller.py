"""Polls the agent on a timer in a thread of its own, so the icon's loop never waits on it."""

from __future__ import annotations

import threading
from collections.abc import Callable

from abhaya.ui.tray.controller import Poll

POLL_SECONDS = 5.0


class Poller:
    """Calls `read` every `interval` seconds (and at once on `poke`) and hands each poll to
    `deliver`.  `read` must not raise (TrayService.read does not); `deliver` runs in this
    thread, so it only updates the icon, which pystray allows from any thread."""

    def __init__(
        self,
        read: Callable[[], Poll],
        deliver: Callable[[Poll], object],
        interval: float = POLL_SECONDS,
    ) -> None:
        self._read = read
        self._deliver = deliver
        self._interval = interval
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="abhaya-tray-poll", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def poke(self) -> None:
        """Poll now (after a pause or a sign-in, so the icon changes at once)."""
        self._wake.set()

    def stop(self, timeout: float = 35.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._deliver(self._read())
            self._wake.wait(self._interval)
            self._wake.clear()
