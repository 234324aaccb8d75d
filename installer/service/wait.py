"""Waiting for the installed service to filter: the proxy answers a request, or the install
fails with the service's last words from the journal."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from typing import ClassVar

from abhaya.installer.host import Host, InstallError
from abhaya.installer.steps import Undo

PROBE = b"GET http://abhaya.invalid/ HTTP/1.1\r\nHost: abhaya.invalid\r\nConnection: close\r\n\r\n"
"""A request any HTTP proxy answers at once (the name cannot resolve: `.invalid`)."""
JOURNAL_LINES = 15


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.removeprefix("[").removesuffix("]"), int(port)


def proxy_answers(address: str, timeout: float = 3.0) -> str | None:
    """The status line the proxy at `address` answers a request with; None when nothing
    listens or nothing HTTP comes back within `timeout`."""
    host, port = split_address(address)
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.sendall(PROBE)
            reply = conn.recv(256)
    except OSError:
        return None
    line = reply.split(b"\r\n", 1)[0].decode("latin-1")
    return line if line.startswith("HTTP/") else None


@dataclass(frozen=True, slots=True)
class WaitForProxy:
    """Wait (at most `timeout` seconds) until the proxy answers; nothing to undo."""

    kind: ClassVar[str] = "service-wait"
    address: str
    unit: str
    timeout: float = 20.0

    @property
    def key(self) -> str:
        return f"service-wait:{self.unit}"

    def describe(self) -> list[str]:
        return [
            f"Wait until the agent filters (the proxy on {self.address} answers), at most "
            f"{self.timeout:.0f} s",
            f"  on failure, show: journalctl -u {self.unit} -n {JOURNAL_LINES} --no-pager",
        ]

    def apply(self, host: Host, previous: Undo | None) -> Undo:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if proxy_answers(self.address, timeout=1.0) is not None:
                return Undo(self.kind, self.key, "nothing to undo (a wait)")
            time.sleep(0.2)
        journal = host.run(
            ("journalctl", "-u", self.unit, "-n", str(JOURNAL_LINES), "--no-pager", "-o", "cat"),
            check=False,
        )
        said = (journal.stdout or journal.stderr).strip() or "(the journal has nothing)"
        raise InstallError(
            f"the agent did not answer on {self.address} within {self.timeout:.0f} s. "
            f"Its last words (journalctl -u {self.unit}):\n{said}"
        )

    @classmethod
    def undo(cls, host: Host, record: Undo) -> None:
        return None
