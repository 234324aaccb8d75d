"""The tunnel relay in front of mitmproxy (`agent.tunnels`), on a real agent and real sockets.

A tunnel the policy passes through is relayed by the agent itself (counted in `relayed`) and
reaches the site end to end; everything else reaches mitmproxy exactly as it did before, with
the bytes the relay read: a decrypted name, a ClientHello that names another site or none, a
tunnel that does not carry TLS, and bytes that are not a CONNECT at all.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mitmproxy.proxy import mode_servers
from websockets.sync.client import connect

from abhaya.agent import tunnels
from tests.agent.addons.test_policy_inspect import NEEDED
from tests.agent.chatservers import chat_server, tls_context
from tests.agent.conftest import (
    BYTES_PATH,
    RunningAgent,
    Upstream,
    connect_tunnel,
    start_agent,
)


@pytest.fixture(scope="module")
def needed(tmp_path_factory: pytest.TempPathFactory, upstream: Upstream) -> Iterator[RunningAgent]:
    agent = start_agent(tmp_path_factory.mktemp("relay"), upstream, policy=NEEDED)
    yield agent
    agent.stop()


def _origin_only(agent: RunningAgent, upstream: Upstream) -> httpx.Client:
    """A client through the proxy that trusts the origin's CA and not the agent's."""
    context = ssl.create_default_context(cafile=str(upstream.ca_file))
    return httpx.Client(proxy=agent.proxy_url, verify=context, timeout=20)


def _read_all(conn: socket.socket) -> bytes:
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    return data


def test_the_seam_mitmproxy_starts_its_listener_with_the_instance_handler() -> None:
    """The relay replaces `handle_stream` on a server instance before it listens; mitmproxy
    11.0 passes that attribute to `asyncio.start_server` (a change there would bypass it)."""
    import inspect

    source = inspect.getsource(mode_servers.AsyncioServerInstance.listen)
    assert "start_server(self.handle_stream" in source


def test_a_passed_through_tunnel_is_relayed_end_to_end(
    needed: RunningAgent, upstream: Upstream
) -> None:
    relay = needed.agent.tunnels
    services = needed.agent.services
    before, counted = relay.relayed, services.inspection["not_needed"]
    with _origin_only(needed, upstream) as client:
        response = client.get(f"https://localhost:{upstream.port}/page")
        again = client.get(f"https://localhost:{upstream.port}{BYTES_PATH}300000")
    assert (response.status_code, response.json()["path"]) == (200, "/page")
    assert again.status_code == 200 and len(again.content) == 300000
    # The test server closes its connection after each answer: two tunnels.
    assert relay.relayed == before + 2
    assert services.inspection["not_needed"] == counted + 2


def test_a_decrypted_name_goes_to_mitmproxy(needed: RunningAgent) -> None:
    relay = needed.agent.tunnels
    before = relay.relayed
    with needed.client() as client:
        response = client.get("https://www.bing.com/search?q=weather&adlt=off")
        blocked = client.get("https://adult.example/")
    assert "adlt=strict" in response.json()["path"]
    assert blocked.status_code == 403
    assert relay.relayed == before


def test_a_hello_naming_another_site_is_handed_over_and_decrypted(
    needed: RunningAgent, upstream: Upstream
) -> None:
    """The CONNECT names a passed-through host, the ClientHello another: mitmproxy gets the
    tunnel with its CONNECT replayed, decrypts it (a name mismatch), and its own `200` is not
    sent a second time (the handshake would fail on it)."""
    services = needed.agent.services
    before, mismatched = needed.agent.tunnels.relayed, services.inspection["name_mismatch"]
    conn, head = connect_tunnel(needed, f"localhost:{upstream.port}")
    assert head.startswith(b"HTTP/1.1 200")
    context = ssl.create_default_context(cafile=str(needed.ca_file))
    with context.wrap_socket(conn, server_hostname="other.example") as tls:
        tls.sendall(b"GET /page HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        reply = _read_all(tls)
    assert reply.startswith(b"HTTP/1.1 ")
    assert services.inspection["name_mismatch"] == mismatched + 1
    assert needed.agent.tunnels.relayed == before


def test_a_tunnel_without_tls_is_handed_over_with_one_answer(
    needed: RunningAgent, upstream: Upstream
) -> None:
    """Plain HTTP inside a tunnel is mitmproxy's to read: the client sees exactly one `200`
    for its CONNECT, then mitmproxy's answer to the request."""
    before = needed.agent.tunnels.relayed
    conn, head = connect_tunnel(needed, f"localhost:{upstream.port}")
    with conn:
        assert head.startswith(b"HTTP/1.1 200")
        conn.sendall(b"GET /page HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        reply = _read_all(conn)
    assert reply.startswith(b"HTTP/1.1 ")
    assert b"Connection established" not in reply
    assert needed.agent.tunnels.relayed == before


def test_hostile_bytes_leave_the_agent_serving(needed: RunningAgent, upstream: Upstream) -> None:
    host, port = needed.agent.addresses[0]
    sends = [
        b"\x16\x03\x01\x00\x05hello\r\n\r\n",
        b"CONNECT localhost:" + str(upstream.port).encode() + b" HTTP/1.1\r\n" + b"X: y\r\n" * 5000,
        b"CONNECT :443 HTTP/1.1\r\n\r\n",
        b"CONNECT localhost:99999 HTTP/1.1\r\n\r\n",
        b"GARBAGE\r\n\r\n",
        b"CONNECT localhost:" + str(upstream.port).encode() + b" HTTP/1.1\r\n\r\n\x16\x03\x01",
    ]
    for data in sends:
        with socket.create_connection((host, port), timeout=20) as conn:
            conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)
            _read_all(conn)
    with _origin_only(needed, upstream) as client:
        assert client.get(f"https://localhost:{upstream.port}/page").status_code == 200


def test_an_idle_tunnel_is_closed(
    needed: RunningAgent, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tunnels, "IDLE_TIMEOUT", 0.5)
    conn, head = connect_tunnel(needed, f"localhost:{upstream.port}")
    context = ssl.create_default_context(cafile=str(upstream.ca_file))
    with context.wrap_socket(conn, server_hostname="localhost") as tls:
        assert head.startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        assert tls.recv(1) == b""  # closed by the relay, not by the test's 20 s timeout
        assert time.monotonic() - started < 15


def test_shutdown_closes_relayed_tunnels(tmp_path: Path, upstream: Upstream) -> None:
    agent = start_agent(tmp_path, upstream, policy=NEEDED)
    try:
        conn, head = connect_tunnel(agent, f"localhost:{upstream.port}")
        context = ssl.create_default_context(cafile=str(upstream.ca_file))
        with context.wrap_socket(conn, server_hostname="localhost") as tls:
            assert agent.agent.tunnels.relayed == 1
            agent.stop()
            assert tls.recv(1) == b""
    finally:
        agent.stop()


def test_without_the_relay_mitmproxy_carries_every_tunnel(
    tmp_path: Path, upstream: Upstream
) -> None:
    agent = start_agent(tmp_path, upstream, policy=NEEDED, relay_tunnels=False)
    try:
        with _origin_only(agent, upstream) as client:
            assert client.get(f"https://localhost:{upstream.port}/page").status_code == 200
        assert agent.agent.tunnels.relayed == 0
        assert agent.agent.services.inspection["not_needed"] == 1
    finally:
        agent.stop()


class _Recorder:
    """A client writer that records: mitmproxy refusing a CONNECT the relay already answered
    cannot be caused on a real agent (the relay makes the same checks first)."""

    def __init__(self) -> None:
        self.written = b""
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True


def test_mitmproxys_own_200_is_held_back_and_what_follows_passes() -> None:
    recorder = _Recorder()
    writer = tunnels._AnsweredWriter(recorder)  # type: ignore[arg-type]
    writer.write(b"HTTP/1.1 200 Connection ")
    writer.write(b"established\r\n\r\n\x16\x03\x03")
    writer.write(b"more")
    assert (recorder.written, recorder.closed) == (b"\x16\x03\x03more", False)


def test_a_refusal_after_the_200_closes_the_connection_and_sends_nothing() -> None:
    recorder = _Recorder()
    writer = tunnels._AnsweredWriter(recorder)  # type: ignore[arg-type]
    writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope")
    writer.write(b"more of the page")
    assert (recorder.written, recorder.closed) == (b"", True)


def test_a_websocket_works_through_a_relayed_tunnel(tmp_path: Path, upstream: Upstream) -> None:
    chat = chat_server(tls_context(upstream, "localhost"))
    ports = frozenset({upstream.port, chat.port})
    agent = start_agent(tmp_path, upstream, policy=NEEDED, allow_local_ports=ports)
    try:
        context = ssl.create_default_context(cafile=str(upstream.ca_file))
        with connect(
            f"wss://localhost:{chat.port}/live", proxy=agent.proxy_url, ssl=context
        ) as client:
            client.send("hello through the relay")
            assert client.recv(timeout=20) == "hello through the relay"
        assert agent.agent.tunnels.relayed == 1
    finally:
        agent.stop()
        chat.server.shutdown()


def test_a_site_that_refuses_the_connection_closes_the_tunnel(
    tmp_path: Path, upstream: Upstream
) -> None:
    """The relay answered the CONNECT before it dialled (as mitmproxy's lazy strategy does), so
    a server that cannot be reached ends the tunnel; the agent goes on serving."""
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        closed = spare.getsockname()[1]  # nothing listens here once the socket is closed
    ports = frozenset({upstream.port, closed})
    agent = start_agent(tmp_path, upstream, policy=NEEDED, allow_local_ports=ports)
    try:
        conn, head = connect_tunnel(agent, f"localhost:{closed}")
        assert head.startswith(b"HTTP/1.1 200")
        context = ssl.create_default_context(cafile=str(upstream.ca_file))
        with pytest.raises(OSError):  # ssl.SSLError is one
            context.wrap_socket(conn, server_hostname="localhost")
        conn.close()
        assert agent.agent.tunnels.relayed == 0
        with _origin_only(agent, upstream) as client:
            assert client.get(f"https://localhost:{upstream.port}/page").status_code == 200
        assert agent.agent.tunnels.relayed == 1
    finally:
        agent.stop()
