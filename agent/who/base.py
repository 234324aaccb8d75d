"""The interface every platform's socket-owner lookup implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

Address = tuple[str, int]
"""(host, port) as mitmproxy gives a connection's ends (IPv6 tuples are cut to two items)."""


@dataclass(frozen=True, slots=True)
class Peer:
    """The process end of one loopback connection, as the OS reports it."""

    user: str
    """The OS account's name (the uid as text when the account has no name)."""
    uid: int | None = None
    """Numeric user id where the OS has one (POSIX)."""
    pid: int | None = None
    """The owning process where the table names it (psutil); None until looked up (/proc)."""
    inode: int = 0
    """The socket's inode on Linux, the key for finding its process; 0 elsewhere."""


@dataclass(frozen=True, slots=True)
class ProcessInfo:
    pid: int
    name: str


class WouldWait(Exception):
    """The answer needs something slow (a scan of every socket, a directory service for the
    account's name): ask `PeerTable.peer` in a worker thread instead."""


class PeerTable(Protocol):
    """One way of asking the OS who holds the other end of a loopback TCP connection."""

    def peer(self, client: Address, server: Address) -> Peer | None:
        """The owner of the socket whose local end is `client` and remote end `server` (the
        proxy's listening address), or None when no such socket is found.  Runs once per client
        connection, off the event loop; may raise OSError, which the caller treats as None."""
        ...

    def peer_at_once(self, client: Address, server: Address) -> Peer | None:
        """`peer`, answered without waiting (microseconds, on the event loop), or WouldWait.
        Most connections are attributed this way; a thread hand-off costs more than the
        lookup, and forty new connections of a page queue behind each other for threads."""
        ...

    def process(self, peer: Peer) -> ProcessInfo | None:
        """The process holding the socket.  Costly on some systems, so asked only when an
        event needs it; None when it is gone or not visible to the agent's account."""
        ...
