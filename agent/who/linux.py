"""Socket owners on Linux: exact, no extra rights needed for the user.

The kernel is asked for the one socket by its addresses (netlink sock_diag, `sockdiag.py`).
Where netlink is not available, /proc/net/tcp and /proc/net/tcp6 are read: they list every TCP
socket of this network namespace with its addresses, the uid that created it and its inode,
and every account may read them.  The row whose local address is the client's end and whose
remote address is the proxy's listening address is the client's own socket.  Its process is
found only on demand, by looking for the inode among the processes' open files
(/proc/PID/fd), which the agent can read for other accounts only when it runs as root (as the
service does).
"""

from __future__ import annotations

import collections
import ipaddress
import logging
import os
import pwd
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

from abhaya.agent.who import sockdiag
from abhaya.agent.who.base import Address, Peer, ProcessInfo, WouldWait
from abhaya.filters.urlnorm import ip_of

log = logging.getLogger(__name__)

PROC = Path("/proc")
TABLES = ("net/tcp", "net/tcp6")
SEARCH_BUDGET = 0.05
"""Seconds one process search may take before it gives up (the event then names no process)."""
_RECENT = 16
NAME_TTL = 300.0
"""Seconds an account's name is kept: the passwd database may be a directory service (LDAP,
sssd on school machines) that must not be asked on the event loop for every connection."""
_READ_SIZE = 1 << 20


@dataclass(frozen=True, slots=True)
class Row:
    """The fields of one /proc/net/tcp row that attribution needs."""

    uid: int
    inode: int


def proc_address(host: str, port: int, *, v6: bool) -> str:
    """An address as /proc/net/tcp{,6} prints it: the address as native-endian 32-bit words in
    hex, a colon, the port in hex.  `v6` asks for tcp6's form (IPv4 as ::ffff:a.b.c.d)."""
    address = ip_of(host)
    if v6 and isinstance(address, ipaddress.IPv4Address):
        address = ipaddress.IPv6Address(b"\0" * 10 + b"\xff\xff" + address.packed)
    packed = address.packed
    words = "".join(
        f"{int.from_bytes(packed[i : i + 4], sys.byteorder):08X}" for i in range(0, len(packed), 4)
    )
    return f"{words}:{port:04X}"


def find_row(table: bytes, local: str, remote: str) -> Row | None:
    """The live row with these local and remote addresses (as `proc_address` writes them).

    One substring search instead of parsing every row: the table holds every socket of the
    machine.  Rows with inode 0 are sockets no process holds any more (TIME_WAIT, orphans);
    their uid is 0, which would wrongly name root, so they are skipped.
    """
    needle = f" {local} {remote} ".encode("ascii")
    start = 0
    while (found := table.find(needle, start)) >= 0:
        start = found + len(needle)
        end = table.find(b"\n", found)
        fields = table[found : end if end >= 0 else len(table)].split()
        # local, remote, st, tx:rx, tr:when, retrnsmt, uid, timeout, inode
        if len(fields) < 9 or not fields[6].isdigit() or not fields[8].isdigit():
            continue
        row = Row(uid=int(fields[6]), inode=int(fields[8]))
        if row.inode:
            return row
    return None


def user_name(uid: int) -> str:
    """The account's name; its number as text when the passwd database has no entry."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


class ProcNetTable:
    """`PeerTable` for Linux."""

    def __init__(
        self, proc: Path = PROC, budget: float = SEARCH_BUDGET, netlink: bool = True
    ) -> None:
        self._proc = proc
        self._netlink = netlink
        """Ask the kernel for the one socket (sock_diag); off after it fails once, or by choice."""
        self._budget = budget
        self._recent: collections.deque[int] = collections.deque(maxlen=_RECENT)
        """Processes that held earlier sockets: a browser opens many, so look there first."""
        self._names: dict[int, tuple[float, str]] = {}
        """uid -> (when it expires, the account's name)."""

    @staticmethod
    def available(proc: Path = PROC) -> bool:
        return os.access(proc / TABLES[0], os.R_OK)

    def peer(self, client: Address, server: Address) -> Peer | None:
        row = self.row(client, server)
        if row is None:
            return None
        name = user_name(row.uid)
        self._names[row.uid] = (time.monotonic() + NAME_TTL, name)
        return Peer(user=name, uid=row.uid, inode=row.inode)

    def peer_at_once(self, client: Address, server: Address) -> Peer | None:
        """sock_diag answers in microseconds; the name comes from what `peer` learnt."""
        if not self._netlink:
            raise WouldWait
        v4 = isinstance(ip_of(client[0]), ipaddress.IPv4Address)
        try:
            row = self._ask_kernel(client, server, v4)
        except OSError:
            raise WouldWait from None  # `peer` falls back to /proc, in a thread
        if row is None:
            return None
        known = self._names.get(row.uid)
        if known is None or known[0] <= time.monotonic():
            raise WouldWait
        return Peer(user=known[1], uid=row.uid, inode=row.inode)

    def row(self, client: Address, server: Address) -> Row | None:
        """The client socket's row: an IPv4 socket, or an IPv6 one (IPv4 mapped into IPv6
        when the client used such an address).  Asked of sock_diag; /proc when netlink fails."""
        v4 = isinstance(ip_of(client[0]), ipaddress.IPv4Address)
        if self._netlink:
            try:
                return self._ask_kernel(client, server, v4)
            except OSError:
                log.info("sock_diag unavailable; reading /proc/net/tcp instead", exc_info=True)
                self._netlink = False
        for name in TABLES:
            v6 = name.endswith("6")
            if not v6 and not v4:
                continue
            found = _scan(
                self._proc / name, proc_address(*client, v6=v6), proc_address(*server, v6=v6)
            )
            if found is not None:
                return found
        return None

    @staticmethod
    def _ask_kernel(client: Address, server: Address, v4: bool) -> Row | None:
        families = (socket.AF_INET, socket.AF_INET6) if v4 else (socket.AF_INET6,)
        for family in families:
            found = sockdiag.owner(client, server, family)
            if found is not None:
                return Row(uid=found[0], inode=found[1])
        return None

    def process(self, peer: Peer) -> ProcessInfo | None:
        if peer.pid is not None:
            return _describe(peer.pid)
        if not peer.inode:
            return None
        pid = self._holder(peer.inode, peer.uid)
        return None if pid is None else _describe(pid)

    def _holder(self, inode: int, uid: int | None) -> int | None:
        """The pid with the socket among its open files, searched within the time budget."""
        target = f"socket:[{inode}]"
        deadline = time.monotonic() + self._budget
        for pid in self._candidates(uid):
            fds = self._proc / str(pid) / "fd"
            try:
                names = os.listdir(fds)
            except OSError:  # gone, or another account's process while not root
                continue
            for fd in names:
                try:
                    if os.readlink(fds / fd) == target:
                        if pid in self._recent:
                            self._recent.remove(pid)
                        self._recent.appendleft(pid)
                        return pid
                except OSError:
                    continue
            if time.monotonic() > deadline:
                return None
        return None

    def _candidates(self, uid: int | None) -> Iterator[int]:
        """Recent holders first, then the uid's own processes, then everybody else's."""
        yield from tuple(self._recent)
        own: list[int] = []
        others: list[int] = []
        with os.scandir(self._proc) as entries:
            for entry in entries:
                if not entry.name.isdigit():
                    continue
                try:
                    owner = entry.stat().st_uid
                except OSError:  # the process ended meanwhile
                    continue
                (own if uid is None or owner == uid else others).append(int(entry.name))
        yield from own
        yield from others


def _scan(path: Path, local: str, remote: str) -> Row | None:
    """Read the table until the row turns up.  Each read() walks the kernel's whole socket hash
    (about 1.7 ms here even with two sockets), so stopping at the first read that holds the row
    halves the cost against reading to the end."""
    data = b""
    fd = os.open(path, os.O_RDONLY)
    try:
        while chunk := os.read(fd, _READ_SIZE):
            data += chunk
            found = find_row(data, local, remote)
            if found is not None:
                return found
    finally:
        os.close(fd)
    return None


def _describe(pid: int) -> ProcessInfo | None:
    """psutil's name: it completes names the kernel cuts at 15 characters from the cmdline."""
    try:
        return ProcessInfo(pid=pid, name=psutil.Process(pid).name())
    except psutil.Error:
        return None
