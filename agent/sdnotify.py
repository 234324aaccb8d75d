"""Telling systemd how the agent is doing (`sd_notify`): ready, alive, stopping.

The unit is `Type=notify` with a `WatchdogSec=`: systemd counts the agent as started only when
it says READY=1 (once the proxy listens, so `systemctl start` returns when filtering works), and
kills and restarts it when WATCHDOG=1 stops arriving (a stuck event loop filters nothing, yet
its process is alive).  Outside systemd (`NOTIFY_SOCKET` unset) every call does nothing.

The protocol is one datagram of `NAME=value` lines to the AF_UNIX socket named in
`NOTIFY_SOCKET` (a leading `@` names Linux's abstract namespace).  It is small enough to speak
here: the PyPI packages for it are either unkept since 2017 (`sdnotify`, which also swallows
every error) or bindings to libsystemd that need its headers to build (`systemd-python`).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServiceNotifier:
    """Where notifications go (None: not run by systemd) and how often the watchdog wants one."""

    address: str | None
    watchdog_usec: int | None = None
    """The unit's WatchdogSec in microseconds, when systemd asks for pings."""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> ServiceNotifier:
        """What systemd set for this process.  WATCHDOG_PID, when set, must be ours: a child
        that inherited the variables must not keep its parent's watchdog happy."""
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET") or None
        watchdog: int | None = None
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        if usec.isdigit() and int(usec) > 0 and (not pid or pid == str(os.getpid())):
            watchdog = int(usec)
        return cls(address, watchdog)

    @property
    def active(self) -> bool:
        return self.address is not None

    @property
    def watchdog_interval(self) -> float | None:
        """Seconds between pings: half the watchdog's timeout, as sd_watchdog_enabled(3)
        advises, so one late ping is not a restart."""
        return None if self.watchdog_usec is None else self.watchdog_usec / 2_000_000

    def notify(self, **fields: str) -> bool:
        """Send `NAME=value` lines (`notify(READY="1", STATUS="...")`); False when not under
        systemd or when the datagram could not be sent (logged: a lost ping is not fatal,
        the watchdog decides)."""
        if self.address is None:
            return False
        message = "\n".join(f"{name}={value}" for name, value in fields.items()).encode()
        target = self.address
        if target.startswith("@"):
            target = "\0" + target[1:]
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.connect(target)
                sock.sendall(message)
        except OSError as error:
            log.warning("could not notify systemd at %s: %s", self.address, error)
            return False
        return True

    def ready(self, status: str) -> bool:
        return self.notify(READY="1", STATUS=status)

    def watchdog(self) -> bool:
        return self.notify(WATCHDOG="1")

    def stopping(self) -> bool:
        return self.notify(STOPPING="1", STATUS="stopping")
