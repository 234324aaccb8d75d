"""psutil's connection table, the fallback for systems without /proc, on a real socket."""

from __future__ import annotations

import os
import socket

import psutil

from abhaya.agent.who.base import Peer
from abhaya.agent.who.portable import PsutilTable


def test_the_connection_table_names_this_process() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(server.getsockname())
    accepted, _ = server.accept()
    try:
        table = PsutilTable()
        peer = table.peer(client.getsockname(), server.getsockname())
        me = psutil.Process()
        assert peer == Peer(user=me.username(), uid=os.getuid(), pid=os.getpid())
        found = table.process(peer)
        assert found is not None and found.name == me.name()
    finally:
        for sock in (client, accepted, server):
            sock.close()


def test_a_process_that_is_gone_has_no_name() -> None:
    assert PsutilTable().process(Peer(user="x", pid=2**22 + 1)) is None
