"""Attribution of client connections, made once per connection and kept while it is open."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

from abhaya.agent.clock import utc_now
from abhaya.agent.who import default_table
from abhaya.agent.who.base import Address, Peer, PeerTable, ProcessInfo, WouldWait
from abhaya.filters.urlnorm import ip_of

log = logging.getLogger(__name__)

LOOKUP_TIMEOUT = 1.0
"""Seconds a connection waits for its lookup; after that it goes on unattributed."""


class Attribution:
    """Who is behind one client connection: the OS user at once, the process on demand.

    The process search is left until an event needs it (most connections never make one) and
    then kept, found or not, for the rest of the connection.
    """

    __slots__ = ("_looked_up", "_process", "_table", "peer")

    def __init__(self, peer: Peer | None = None, table: PeerTable | None = None) -> None:
        self.peer = peer
        self._table = table
        self._process: ProcessInfo | None = None
        self._looked_up = peer is None or table is None

    @property
    def user(self) -> str:
        """The OS account's name; "" when the connection could not be attributed."""
        return "" if self.peer is None else self.peer.user

    def process(self) -> ProcessInfo | None:
        """The process that opened the connection; None when unknown.  Never raises."""
        if not self._looked_up:
            self._looked_up = True
            assert self.peer is not None and self._table is not None
            try:
                self._process = self._table.process(self.peer)
            except Exception:  # noqa: BLE001 - a lookup failure means "no process", never an error
                log.warning("process lookup failed for user %s", self.peer.user, exc_info=True)
        return self._process

    def process_name(self) -> str:
        found = self.process()
        return "" if found is None else found.name

    def known_process_name(self) -> str:
        """The process name if it was already looked up, else "" (never searches: for code
        that must not wait, such as the last word's error record)."""
        return self.process_name() if self._looked_up else ""

    async def process_name_off_loop(self) -> str:
        """`process_name()` with the search (7-19 ms for a browser with hundreds of open
        files) in a worker thread, so other connections never wait on it."""
        if not self._looked_up:
            await asyncio.to_thread(self.process)
        return self.process_name()


UNATTRIBUTED = Attribution()


class ConnectionOwners:
    """The attribution of each open client connection, by mitmproxy's connection id."""

    def __init__(
        self,
        table: PeerTable | None = None,
        timeout: float = LOOKUP_TIMEOUT,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self._table = default_table() if table is None else table
        self._timeout = timeout
        self._clock = clock
        self._open: dict[str, Attribution] = {}
        self._last_seen: dict[str, dt.datetime] = {}

    def last_seen(self) -> dict[str, dt.datetime]:
        """OS account -> when a connection of theirs last reached the proxy.  Bounded by the
        accounts of this machine (names come from the OS, never from the traffic); a copy, as
        the proxy's loop goes on writing."""
        return dict(self._last_seen)

    async def attach(self, ident: str, client: Address, server: Address) -> Attribution:
        """Look up the connection's owner and keep it under `ident`: at once where the table
        can answer without waiting, else in a worker thread.

        Never raises and never waits more than `timeout`: any failure means "not
        attributed", and the connection is then decided with the default profile.
        """
        attribution = UNATTRIBUTED
        if _loopback(client[0]):
            try:
                peer = await self._peer(client, server)
            except Exception:  # noqa: BLE001 - attribution is best effort, the proxy goes on
                log.warning("could not attribute the connection from %s", client, exc_info=True)
            else:
                if peer is not None:
                    attribution = Attribution(peer, self._table)
                    self._last_seen[peer.user] = self._clock()
        self._open[ident] = attribution
        return attribution

    async def _peer(self, client: Address, server: Address) -> Peer | None:
        try:
            return self._table.peer_at_once(client, server)
        except WouldWait:
            return await asyncio.wait_for(
                asyncio.to_thread(self._table.peer, client, server), self._timeout
            )

    def of(self, ident: str) -> Attribution:
        return self._open.get(ident, UNATTRIBUTED)

    def forget(self, ident: str) -> None:
        self._open.pop(ident, None)

    def __len__(self) -> int:
        return len(self._open)


def _loopback(host: str) -> bool:
    """Only connections from this machine have a local process to find."""
    try:
        return ip_of(host).is_loopback
    except ValueError:
        return False
