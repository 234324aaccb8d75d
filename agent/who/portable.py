"""Socket owners from psutil's connection table, for systems without /proc (Windows, macOS).

psutil names the owning pid of each connection; the account is the process's owner.  On macOS
the table lists other accounts' sockets only for root; on Windows, for an administrator.  The
lookup walks every connection of the machine, so it costs more than the Linux one.
"""

from __future__ import annotations

import psutil

from abhaya.agent.who.base import Address, Peer, ProcessInfo, WouldWait
from abhaya.filters.urlnorm import ip_of


class PsutilTable:
    """`PeerTable` through `psutil.net_connections`."""

    def peer(self, client: Address, server: Address) -> Peer | None:
        want_local = (ip_of(client[0]), client[1])
        want_remote = (ip_of(server[0]), server[1])
        for conn in psutil.net_connections(kind="tcp"):
            if not conn.laddr or not conn.raddr or conn.pid is None:
                continue
            local = (ip_of(conn.laddr.ip), conn.laddr.port)
            remote = (ip_of(conn.raddr.ip), conn.raddr.port)
            if local == want_local and remote == want_remote:
                return _peer_of(conn.pid)
        return None

    def peer_at_once(self, client: Address, server: Address) -> Peer | None:
        """Never: the walk over every connection of the machine is too slow for the loop."""
        raise WouldWait

    def process(self, peer: Peer) -> ProcessInfo | None:
        if peer.pid is None:
            return None
        try:
            return ProcessInfo(pid=peer.pid, name=psutil.Process(peer.pid).name())
        except psutil.Error:
            return None


def _peer_of(pid: int) -> Peer | None:
    try:
        process = psutil.Process(pid)
        user = process.username()
    except psutil.Error:
        return None
    try:
        uid: int | None = process.uids().real
    except (AttributeError, psutil.Error):  # Windows has no uids
        uid = None
    # Windows names accounts DOMAIN\user; a policy names the user.
    return Peer(user=user.rpartition("\\")[2], uid=uid, pid=pid)
