"""Tunnels passed through undecrypted, judged again for as long as they stay open.

A tunnel is passed through by its name at the moment it opens (`filters.inspect`), and a
browser keeps such a connection for minutes or hours: HTTP/2 carries every later page of a
site over one.  Judged only once, a tunnel opened at 20:59 would outlive a bedtime at 21:00, a
site the parent has just blocked or a school's switch to decrypting everything: the filter
would stay open where the policy says closed.

So every tunnel passed through, by the relay (`agent.tunnels`) or by mitmproxy
(`addons.passthrough`), is kept here with a way to close it.  The agent judges them all again
when a new policy is in force and every `RECHECK_SECONDS`; one that would now be decrypted is
closed, and the browser's next connection is decided afresh (and gets its block or warning
page).  Everything here runs on the proxy's event loop.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

RECHECK_SECONDS = 10.0
"""How often the open tunnels are judged again: how late the end of a schedule's allowed hours
may reach a connection already open.  A new policy is applied to them at once."""


@dataclass(frozen=True, slots=True)
class Tunnel:
    """What a tunnel's pass-through decision is made on: the server name the client asked for
    (None when it gave none), the CONNECT's host and the OS account that opened the
    connection."""

    name: str | None
    target: str | None
    user: str


class PassedTunnels:
    """The open pass-through tunnels and how to close each."""

    def __init__(self) -> None:
        self._open: dict[int, tuple[Tunnel, Callable[[], object]]] = {}
        self._ids = itertools.count(1)
        self.closed = 0
        """Tunnels closed since start because the policy in force no longer passes them."""

    def __len__(self) -> int:
        return len(self._open)

    def add(self, tunnel: Tunnel, close: Callable[[], object]) -> int:
        """Keep `tunnel` until `discard` is given the returned token; `close` ends it."""
        token = next(self._ids)
        self._open[token] = (tunnel, close)
        return token

    def discard(self, token: int) -> None:
        """The tunnel has ended (closing one that was closed here already is harmless)."""
        self._open.pop(token, None)

    def recheck(self, passes: Callable[[Tunnel], bool]) -> int:
        """Close every tunnel `passes` no longer lets through; returns how many were closed (one
        whose closing failed stays, to be tried again).

        `passes` is asked once per distinct tunnel (a page's many connections to one site
        share a decision).  A `passes` that fails counts as "no": what cannot be decided is
        closed, never left open."""
        decided: dict[Tunnel, bool] = {}
        ending = []
        for token, (tunnel, _) in self._open.items():
            if tunnel not in decided:
                try:
                    decided[tunnel] = passes(tunnel)
                except Exception:  # noqa: BLE001 - undecided closes
                    log.exception("a passed-through tunnel could not be judged again; closing it")
                    decided[tunnel] = False
            if not decided[tunnel]:
                ending.append(token)
        closed = 0
        for token in ending:
            try:
                self._open[token][1]()
            except Exception:  # noqa: BLE001 - the others must still close; tried again next time
                log.exception("closing a passed-through tunnel failed")
                continue
            del self._open[token]
            closed += 1
        self.closed += closed
        return closed
