"""Attribution once per connection: a failing or slow socket table never raises into the
proxy and never holds a connection for long; the connection is then simply not attributed."""

from __future__ import annotations

import asyncio
import threading

import pytest

from abhaya.agent.who.base import Address, Peer, ProcessInfo, WouldWait
from abhaya.agent.who.owners import UNATTRIBUTED, Attribution, ConnectionOwners

CLIENT = ("127.0.0.1", 50000)
PROXY = ("127.0.0.1", 8080)


class Table:
    """A socket table that answers from a fixed peer and counts the process searches."""

    def __init__(self, peer: Peer | None, process: ProcessInfo | None = None) -> None:
        self.asked: list[tuple[Address, Address]] = []
        self.searches = 0
        self._peer = peer
        self._process = process

    def peer(self, client: Address, server: Address) -> Peer | None:
        self.asked.append((client, server))
        return self._peer

    def peer_at_once(self, client: Address, server: Address) -> Peer | None:
        raise WouldWait  # as a table without sock_diag: every lookup in a thread

    def process(self, peer: Peer) -> ProcessInfo | None:
        self.searches += 1
        return self._process


class BrokenTable(Table):
    """A table whose lookup fails, as a missing /proc or a denied psutil call would."""

    def peer(self, client: Address, server: Address) -> Peer | None:
        raise PermissionError("denied")


class StuckTable(Table):
    def __init__(self) -> None:
        super().__init__(None)
        self.release = threading.Event()

    def peer(self, client: Address, server: Address) -> Peer | None:
        self.release.wait(10)
        return Peer(user="late")


class QuickTable(Table):
    """A table that answers on the spot, recording on which thread it was asked."""

    def __init__(self, peer: Peer | None) -> None:
        super().__init__(peer)
        self.threads: list[str] = []

    def peer_at_once(self, client: Address, server: Address) -> Peer | None:
        self.threads.append(threading.current_thread().name)
        return self._peer

    def peer(self, client: Address, server: Address) -> Peer | None:
        raise AssertionError("an answer at once needs no thread")


def test_a_table_that_answers_at_once_is_asked_on_the_loop() -> None:
    table = QuickTable(Peer(user="asha", uid=1001, inode=7))
    owners = ConnectionOwners(table)
    assert asyncio.run(owners.attach("c1", CLIENT, PROXY)).user == "asha"
    assert table.threads == [threading.main_thread().name]


def test_a_connection_is_attributed_once_and_its_process_found_once() -> None:
    table = Table(Peer(user="asha", uid=1001, inode=7), ProcessInfo(42, "firefox"))
    owners = ConnectionOwners(table)
    attribution = asyncio.run(owners.attach("c1", CLIENT, PROXY))
    assert owners.of("c1") is attribution and attribution.user == "asha"
    assert table.asked == [(CLIENT, PROXY)]
    assert table.searches == 0  # not until an event needs it
    assert attribution.process_name() == "firefox"
    assert attribution.process_name() == "firefox"
    assert table.searches == 1
    owners.forget("c1")
    assert owners.of("c1") is UNATTRIBUTED and len(owners) == 0


def test_a_failing_table_means_not_attributed() -> None:
    owners = ConnectionOwners(BrokenTable(None))
    attribution = asyncio.run(owners.attach("c1", CLIENT, PROXY))
    assert attribution is UNATTRIBUTED and attribution.user == ""
    assert owners.of("c1") is UNATTRIBUTED


def test_a_failing_process_search_means_no_process() -> None:
    class NoSearch(Table):
        def process(self, peer: Peer) -> ProcessInfo | None:
            raise RuntimeError("broken")

    owners = ConnectionOwners(NoSearch(Peer(user="asha", uid=1001, inode=7)))
    attribution = asyncio.run(owners.attach("c1", CLIENT, PROXY))
    assert attribution.user == "asha"
    assert attribution.process() is None and attribution.process_name() == ""


def test_a_slow_table_does_not_hold_the_connection() -> None:
    table = StuckTable()
    owners = ConnectionOwners(table, timeout=0.2)

    async def connect() -> Attribution:
        try:
            return await owners.attach("c1", CLIENT, PROXY)
        finally:
            table.release.set()  # let the worker thread end before the loop closes

    assert asyncio.run(connect()) is UNATTRIBUTED


@pytest.mark.parametrize("client", [("192.0.2.7", 50000), ("not an address", 1)])
def test_only_loopback_clients_are_looked_up(client: Address) -> None:
    table = Table(Peer(user="asha"))
    owners = ConnectionOwners(table)
    assert asyncio.run(owners.attach("c1", client, PROXY)) is UNATTRIBUTED
    assert table.asked == []


def test_an_unknown_connection_is_not_attributed() -> None:
    assert ConnectionOwners(Table(None)).of("never-seen") is UNATTRIBUTED


def test_the_process_is_found_off_the_event_loop_and_known_afterwards() -> None:
    table = Table(Peer(user="asha", uid=1001, inode=7), ProcessInfo(42, "firefox"))
    attribution = Attribution(Peer(user="asha", uid=1001, inode=7), table)
    assert attribution.known_process_name() == ""  # never searches
    assert table.searches == 0

    async def look_up() -> tuple[str, bool]:
        loop_thread = threading.get_ident()
        searched_on: list[int] = []
        original = table.process

        def recording(peer: Peer) -> ProcessInfo | None:
            searched_on.append(threading.get_ident())
            return original(peer)

        table.process = recording  # type: ignore[method-assign]
        name = await attribution.process_name_off_loop()
        off_loop = bool(searched_on) and loop_thread not in searched_on
        return name, off_loop

    name, off_loop = asyncio.run(look_up())
    assert (name, off_loop) == ("firefox", True)
    assert attribution.known_process_name() == "firefox" and table.searches == 1
