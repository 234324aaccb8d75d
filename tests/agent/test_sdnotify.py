"""sd_notify on a real agent: READY=1 once the proxy listens, WATCHDOG=1 from the event loop,
STOPPING=1 at shutdown, sent to a real AF_UNIX datagram socket named by NOTIFY_SOCKET (a path,
and Linux's abstract namespace)."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from abhaya.agent.sdnotify import ServiceNotifier
from tests.agent.conftest import Upstream, start_agent


class NotifySocket:
    """What systemd listens on: datagrams read as lists of NAME=value lines."""

    def __init__(self, sock: socket.socket, name: str) -> None:
        self.sock = sock
        self.name = name
        self.sock.settimeout(0.2)

    def messages(self, until: float) -> Iterator[dict[str, str]]:
        deadline = time.monotonic() + until
        while time.monotonic() < deadline:
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            yield dict(line.split("=", 1) for line in data.decode().splitlines())

    def wait_for(self, name: str, until: float = 10) -> list[dict[str, str]]:
        """Every message up to and including the first that sets `name`."""
        seen = []
        for message in self.messages(until):
            seen.append(message)
            if name in message:
                return seen
        raise AssertionError(f"no {name} within {until} s; got {seen}")


@pytest.fixture
def path_socket(tmp_path: Path) -> Iterator[NotifySocket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = tmp_path / "notify.sock"
    sock.bind(str(path))
    with sock:
        yield NotifySocket(sock, str(path))


@pytest.fixture
def abstract_socket() -> Iterator[NotifySocket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    name = f"abhaya-test-{uuid.uuid4().hex}"
    sock.bind("\0" + name)
    with sock:
        yield NotifySocket(sock, "@" + name)


def test_agent_says_ready_pings_the_watchdog_and_says_stopping(
    tmp_path: Path, upstream: Upstream, path_socket: NotifySocket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", path_socket.name)
    monkeypatch.setenv("WATCHDOG_USEC", "400000")  # a ping every 0.2 s
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    running = start_agent(tmp_path, upstream)
    try:
        before_ready = path_socket.wait_for("READY")
        ready = before_ready[-1]
        host, port = running.agent.addresses[0]
        assert ready["READY"] == "1"
        assert ready["STATUS"] == f"filtering on {host}:{port}"
        # Several pings, at about half the watchdog's timeout.
        started = time.monotonic()
        pings = 0
        for message in path_socket.messages(1.2):
            pings += message.get("WATCHDOG") == "1"
        assert 3 <= pings <= 10, (pings, time.monotonic() - started)
    finally:
        running.stop()
    assert path_socket.wait_for("STOPPING")[-1]["STOPPING"] == "1"


def test_abstract_namespace_socket(
    tmp_path: Path,
    upstream: Upstream,
    abstract_socket: NotifySocket,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", abstract_socket.name)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    running = start_agent(tmp_path, upstream)
    try:
        messages = abstract_socket.wait_for("READY")
    finally:
        running.stop()
    assert not any("WATCHDOG" in message for message in messages)  # none asked for
    assert abstract_socket.wait_for("STOPPING")


def test_outside_systemd_nothing_is_sent() -> None:
    notifier = ServiceNotifier.from_environment({})
    assert not notifier.active
    assert notifier.watchdog_interval is None
    assert notifier.ready("filtering") is False


def test_watchdog_for_another_process_is_not_ours() -> None:
    """A child that inherited WATCHDOG_PID of its parent must not ping for it."""
    other = ServiceNotifier.from_environment(
        {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "1"}
    )
    assert other.watchdog_interval is None
    ours = ServiceNotifier.from_environment(
        {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "10000000", "WATCHDOG_PID": str(os.getpid())}
    )
    assert ours.watchdog_interval == 5.0


def test_a_socket_that_is_gone_is_a_warning_not_a_crash(tmp_path: Path) -> None:
    notifier = ServiceNotifier(str(tmp_path / "nobody-listens.sock"))
    assert notifier.watchdog() is False
