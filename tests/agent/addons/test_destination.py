"""Nothing on this machine is reachable through the proxy by any spelling of its address or
name, except ports deliberately allowed, and never the control API: the destination addon
decides on the resolved address, by absolute-form requests and by CONNECT tunnels alike."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from mitmproxy import http
from mitmproxy.connection import ConnectionState
from mitmproxy.proxy.server_hooks import ServerConnectionHookData
from mitmproxy.test import tflow

from abhaya.agent.addons.destination import Destinations
from abhaya.agent.config import RunConfig
from abhaya.agent.names import NAME_FAILED, NameCache
from abhaya.agent.store.queries import EventFilter, events_page
from tests.agent.conftest import RunningAgent, Upstream, start_agent
from tests.conftest import TEST_MODEL_DIR, write_policy

SPELLINGS = ["127.1", "2130706433", "0x7f000001", "0177.0.0.1", "0", "localhost", "127.0.0.1"]
HOSTS_NAME = "abhaya-edge-test.example"
"""Added to /etc/hosts for the test, pointing at 127.0.0.1, and removed afterwards."""


class Recorder:
    """A plain HTTP/1.1 server on loopback that counts connections and requests."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.connections = 0
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, so connection reuse can be counted

            def setup(self) -> None:
                recorder.connections += 1
                super().setup()

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                recorder.paths.append(self.path)
                body = b"recorded"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class ServerAddresses:
    """Test addon: the server address each response came over, as the HTTP layer sees it."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []

    def response(self, flow: http.HTTPFlow) -> None:
        address = flow.server_conn.address
        if address is not None:  # None for the proxy's own answers (refusals)
            self.seen.append((str(address[0]), int(address[1])))


@pytest.fixture(scope="module")
def local_names() -> Iterator[list[str]]:
    """Names that resolve to this machine: localhost, the host's own name when it resolves
    locally, and a name added to /etc/hosts for the test (as root)."""
    names = ["localhost"]
    own = socket.gethostname()
    with contextlib.suppress(OSError):
        if socket.gethostbyname(own).startswith("127."):
            names.append(own)
    hosts = Path("/etc/hosts")
    original = hosts.read_text(encoding="utf-8")
    hosts.write_text(f"{original.rstrip()}\n127.0.0.1 {HOSTS_NAME}\n", encoding="utf-8")
    try:
        assert socket.gethostbyname(HOSTS_NAME) == "127.0.0.1"
        yield [*names, HOSTS_NAME]
    finally:
        hosts.write_text(original, encoding="utf-8")


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.close()


@pytest.fixture(scope="module")
def allowed() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.close()


@pytest.fixture(scope="module")
def edge(
    tmp_path_factory: pytest.TempPathFactory, upstream: Upstream, allowed: Recorder
) -> Iterator[tuple[RunningAgent, ServerAddresses]]:
    folder = tmp_path_factory.mktemp("edge")
    addresses = ServerAddresses()
    config = RunConfig(
        host="127.0.0.1",
        port=0,
        data_dir=folder / "data",
        policy_path=write_policy(folder / "policy"),
        upstream_ca=upstream.ca_file,
        allow_local_ports=frozenset({allowed.port}),
        model_dir=TEST_MODEL_DIR,
    )
    agent = RunningAgent(config, [addresses]).start()
    yield agent, addresses
    agent.stop()


def _raw(agent: RunningAgent, data: bytes) -> bytes:
    """Send bytes to the proxy as they are, return its answer (status line and page)."""
    host, port = agent.agent.addresses[0]
    with socket.create_connection((host, port), 10) as sock:
        sock.sendall(data)
        answer = sock.makefile("rb")
        head = answer.readline()
        return head + answer.read(200_000)


def _absolute(agent: RunningAgent, name: str, port: int, path: str = "/secret") -> bytes:
    target = f"{name}:{port}"
    request = f"GET http://{target}{path} HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n"
    return _raw(agent, request.encode())


def _connect(agent: RunningAgent, name: str, port: int) -> bytes:
    target = f"{name}:{port}"
    request = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n"
    return _raw(agent, request.encode() + b"GET /secret HTTP/1.1\r\nHost: x\r\n\r\n")


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def _api_port(agent: RunningAgent) -> int:
    address = agent.agent.api.address
    assert address is not None
    return address.port


@pytest.mark.parametrize("name", SPELLINGS)
@pytest.mark.parametrize("form", [_absolute, _connect])
def test_spellings_of_this_machine_are_refused(
    edge: tuple[RunningAgent, ServerAddresses], recorder: Recorder, name: str, form: object
) -> None:
    agent, _ = edge
    assert callable(form)
    for port in (recorder.port, _api_port(agent)):
        answer = form(agent, name, port)
        assert _status(answer) == 403, answer[:300]
        assert b"cannot be opened through Abhaya" in answer
        assert b'"set"' not in answer  # no API answer inside
    assert recorder.paths == []


@pytest.mark.parametrize("form", [_absolute, _connect])
def test_names_that_resolve_to_this_machine_are_refused(
    edge: tuple[RunningAgent, ServerAddresses],
    recorder: Recorder,
    local_names: list[str],
    form: object,
) -> None:
    agent, _ = edge
    assert callable(form)
    for name in local_names:
        for port in (recorder.port, _api_port(agent)):
            answer = form(agent, name, port)
            assert _status(answer) == 403, (name, answer[:300])
    assert recorder.paths == []


def test_an_allowed_local_port_is_reached_and_kept_alive(
    edge: tuple[RunningAgent, ServerAddresses], allowed: Recorder
) -> None:
    """The allowed port works by any name; the name is put back after pinning, so the second
    request over the same client connection reuses the server connection."""
    agent, addresses = edge
    before = allowed.connections
    with agent.client() as client:
        first = client.get(f"http://localhost:{allowed.port}/one")
        second = client.get(f"http://localhost:{allowed.port}/two")
    assert (first.text, second.text) == ("recorded", "recorded")
    assert allowed.paths[-2:] == ["/one", "/two"]
    assert allowed.connections - before == 1
    assert addresses.seen[-2:] == [("localhost", allowed.port)] * 2


def test_the_api_port_is_refused_even_when_allowed(
    tmp_path: Path, upstream: Upstream, recorder: Recorder
) -> None:
    """A tunnel to the API is refused whatever --allow-local-port says."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        api_port = probe.getsockname()[1]
    agent = start_agent(
        tmp_path,
        upstream,
        api_port=api_port,
        allow_local_ports=frozenset({upstream.port, api_port}),
    )
    try:
        assert _api_port(agent) == api_port
        for form in (_absolute, _connect):
            assert _status(form(agent, "127.1", api_port)) == 403
    finally:
        agent.stop()


def test_refusals_are_recorded(
    edge: tuple[RunningAgent, ServerAddresses], recorder: Recorder
) -> None:
    agent, _ = edge
    _absolute(agent, "2130706433", recorder.port)
    assert agent.agent.services.events.flush(20)
    with contextlib.closing(agent.agent.store.connect(read_only=True)) as conn:
        page = events_page(conn, EventFilter(reasons=("local_address",)))
    assert any(
        item.event.domain == "2130706433" and item.event.rule.startswith("this_machine")
        for item in page.events
    )
    assert all(item.event.action == "block" for item in page.events)


def test_the_connection_is_pinned_to_the_checked_address_then_named_again(
    edge: tuple[RunningAgent, ServerAddresses], allowed: Recorder
) -> None:
    """mitmproxy dials the address that was checked (a second DNS answer cannot differ), and
    once the connection is open the name is back, so keep-alive reuse matches the next
    request for that name."""
    agent, _ = edge
    destinations = Destinations(agent.agent.services, frozenset({allowed.port}))
    server = tflow.tserver_conn()
    server.state = ConnectionState.CLOSED
    server.address = ("localhost", allowed.port)
    data = ServerConnectionHookData(client=tflow.tclient_conn(), server=server)
    asyncio.run(destinations.server_connect(data))
    assert server.error is None
    assert server.address in (("127.0.0.1", allowed.port), ("::1", allowed.port))
    server.state = ConnectionState.OPEN  # what mitmproxy does once it has connected
    destinations.server_connected(data)
    assert server.address == ("localhost", allowed.port)


def test_a_name_that_does_not_resolve_is_refused_before_dialling(
    edge: tuple[RunningAgent, ServerAddresses],
) -> None:
    agent, _ = edge
    destinations = Destinations(agent.agent.services, frozenset())
    server = tflow.tserver_conn()
    server.state = ConnectionState.CLOSED
    server.address = ("nothing-here.invalid", 443)
    data = ServerConnectionHookData(client=tflow.tclient_conn(), server=server)
    asyncio.run(destinations.server_connect(data))
    assert server.error is not None and server.error.startswith(NAME_FAILED)


def test_a_tunnel_asks_the_resolver_once_for_both_checks(
    edge: tuple[RunningAgent, ServerAddresses], allowed: Recorder, local_names: list[str]
) -> None:
    """The CONNECT's check and the server connection's check share one lookup: the second is
    answered from the name cache, off no thread, and pins the same address."""
    agent, _ = edge
    names = NameCache()
    destinations = Destinations(agent.agent.services, frozenset({allowed.port}), names)
    flow = tflow.tflow()
    flow.request.method = "CONNECT"
    flow.request.host, flow.request.port = HOSTS_NAME, allowed.port
    server = tflow.tserver_conn()
    server.state = ConnectionState.CLOSED
    server.address = (HOSTS_NAME, allowed.port)
    data = ServerConnectionHookData(client=flow.client_conn, server=server)

    async def tunnel() -> None:
        await destinations.http_connect(flow)
        await destinations.server_connect(data)

    asyncio.run(tunnel())
    assert flow.response is None and server.error is None
    assert server.address == ("127.0.0.1", allowed.port)
    assert names.lookups == 1
    names.close()
