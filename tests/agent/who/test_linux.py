"""The Linux socket table: the /proc parser on generated rows, then the live lookups (sock_diag
and /proc) with real loopback sockets, whose uid and inode the test knows."""

from __future__ import annotations

import os
import pwd
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from abhaya.agent.who.base import Peer, WouldWait
from abhaya.agent.who.linux import ProcNetTable, Row, find_row, proc_address

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not ProcNetTable.available(),
    reason="/proc/net/tcp is Linux only",
)

HEADER = (
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
    "timeout inode\n"
)


def _row(slot: int, local: str, remote: str, state: str, uid: int, inode: int) -> str:
    return (
        f"{slot:4d}: {local} {remote} {state} 00000000:00000000 00:00000000 00000000 "
        f"{uid:5d}        0 {inode} 1 0000000000000000 20 4 30 10 -1\n"
    )


def _native(*octets: int) -> str:
    """A 4-byte group as the kernel prints it: a native-endian 32-bit word in hex."""
    return f"{int.from_bytes(bytes(octets), sys.byteorder):08X}"


@pytest.mark.parametrize(
    ("host", "port", "v6", "expected"),
    [
        ("127.0.0.1", 8080, False, f"{_native(127, 0, 0, 1)}:1F90"),
        (
            "127.0.0.1",
            8080,
            True,
            "0" * 16 + _native(0, 0, 255, 255) + _native(127, 0, 0, 1) + ":1F90",
        ),
        ("::ffff:127.0.0.1", 1, False, f"{_native(127, 0, 0, 1)}:0001"),
        ("::1", 443, True, "0" * 24 + _native(0, 0, 0, 1) + ":01BB"),
    ],
)
def test_addresses_are_written_as_the_kernel_prints_them(
    host: str, port: int, v6: bool, expected: str
) -> None:
    assert proc_address(host, port, v6=v6) == expected


def test_the_row_with_both_addresses_is_found_and_others_are_not() -> None:
    client = proc_address("127.0.0.1", 50000, v6=False)
    proxy = proc_address("127.0.0.1", 8080, v6=False)
    other = proc_address("127.0.0.1", 50001, v6=False)
    table = (
        HEADER
        + _row(0, proxy, "00000000:0000", "0A", 0, 100)  # the listening socket
        + _row(1, proxy, client, "01", 0, 101)  # the proxy's end of the connection
        + _row(2, other, proxy, "01", 1001, 102)  # another client
        + _row(3, client, proxy, "01", 1002, 103)  # the client's end
    ).encode()
    assert find_row(table, client, proxy) == Row(uid=1002, inode=103)
    assert find_row(table, proxy, other) is None
    assert find_row(table[: table.index(b"   3:")], client, proxy) is None


def test_a_row_no_process_holds_is_skipped() -> None:
    """TIME_WAIT rows have uid 0 and inode 0: taking one would name root."""
    client = proc_address("127.0.0.1", 50000, v6=False)
    proxy = proc_address("127.0.0.1", 8080, v6=False)
    waiting = HEADER + _row(0, client, proxy, "06", 0, 0)
    assert find_row(waiting.encode(), client, proxy) is None
    live = waiting + _row(1, client, proxy, "01", 1003, 104)
    assert find_row(live.encode(), client, proxy) == Row(uid=1003, inode=104)


def test_a_row_cut_short_is_not_read() -> None:
    client = proc_address("127.0.0.1", 50000, v6=False)
    proxy = proc_address("127.0.0.1", 8080, v6=False)
    cut = (HEADER + _row(0, client, proxy, "01", 1003, 104))[: len(HEADER) + 70]
    assert find_row(cut.encode(), client, proxy) is None


@pytest.fixture(params=[("127.0.0.1", socket.AF_INET), ("::1", socket.AF_INET6)])
def connected(request: pytest.FixtureRequest) -> Iterator[tuple[socket.socket, socket.socket]]:
    host, family = request.param
    try:
        server = socket.socket(family)
        server.bind((host, 0))
    except OSError as error:
        pytest.skip(f"no {host} on this machine: {error}")
    server.listen()
    client = socket.create_connection(server.getsockname()[:2])
    accepted, _ = server.accept()
    yield client, server
    for sock in (client, accepted, server):
        sock.close()


@pytest.mark.parametrize("netlink", [True, False], ids=["sock_diag", "proc"])
def test_the_live_table_names_this_process_socket(
    connected: tuple[socket.socket, socket.socket], netlink: bool
) -> None:
    client, server = connected
    table = ProcNetTable(netlink=netlink)
    peer = table.peer(client.getsockname()[:2], server.getsockname()[:2])
    assert peer == Peer(
        user=pwd.getpwuid(os.getuid()).pw_name,
        uid=os.getuid(),
        inode=os.fstat(client.fileno()).st_ino,
    )
    found = table.process(peer)
    assert found is not None
    assert (found.pid, found.name) == (os.getpid(), psutil.Process().name())


@pytest.mark.parametrize("netlink", [True, False], ids=["sock_diag", "proc"])
def test_a_connection_that_is_gone_is_not_attributed(
    connected: tuple[socket.socket, socket.socket], netlink: bool
) -> None:
    client, server = connected
    ends = client.getsockname()[:2], server.getsockname()[:2]
    client.close()
    assert ProcNetTable(netlink=netlink).peer(*ends) is None


def test_the_kernel_answers_at_once_once_the_account_name_is_known(
    connected: tuple[socket.socket, socket.socket],
) -> None:
    """The first connection of an account is looked up in a thread (its name may come from a
    directory service); later ones are answered on the spot from sock_diag."""
    client, server = connected
    ends = client.getsockname()[:2], server.getsockname()[:2]
    table = ProcNetTable()
    with pytest.raises(WouldWait):
        table.peer_at_once(*ends)
    expected = table.peer(*ends)
    assert table.peer_at_once(*ends) == expected


def test_without_netlink_every_lookup_waits_for_a_thread(
    connected: tuple[socket.socket, socket.socket],
) -> None:
    client, server = connected
    ends = client.getsockname()[:2], server.getsockname()[:2]
    table = ProcNetTable(netlink=False)
    assert table.peer(*ends) is not None
    with pytest.raises(WouldWait):
        table.peer_at_once(*ends)


def test_an_inode_no_process_holds_has_no_process() -> None:
    table = ProcNetTable(budget=0.5)
    assert table.process(Peer(user="nobody", uid=os.getuid(), inode=2**40)) is None


def test_a_missing_table_is_an_os_error(tmp_path: Path) -> None:
    """The owners' registry turns this into "not attributed" (tests/agent/who/test_owners.py)."""
    with pytest.raises(OSError):
        ProcNetTable(proc=tmp_path, netlink=False).peer(("127.0.0.1", 1), ("127.0.0.1", 2))
