"""Real parts for the proxy tests: a local HTTPS upstream and the agent running in a thread.

The machine has no internet, so names such as www.bing.com are mapped to the local upstream by
a small addon at `server_connect` (like an /etc/hosts entry for the proxy alone); everything
else, TLS on both sides included, is the real proxy path.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import trustme
from mitmproxy.proxy.server_hooks import ServerConnectionHookData

from abhaya.agent.config import RunConfig
from abhaya.agent.proxy import Agent
from abhaya.ui.pages.render import PageRenderer
from tests.conftest import POLICY, write_policy

UPSTREAM_NAMES = [
    "localhost",
    "127.0.0.1",
    "www.bing.com",
    "duckduckgo.com",
    "www.youtube.com",
    "adult.example",
    "bank.example",
    "example.org",
    "games.example",
    "bet.example",
    "casino.example",
]


@dataclass
class Upstream:
    """An HTTPS server that echoes each request as JSON and remembers the Host headers seen."""

    port: int
    ca: trustme.CA
    ca_file: Path
    hosts_seen: list[str] = field(default_factory=list)


def _handler(seen: list[str]) -> type[BaseHTTPRequestHandler]:
    class Echo(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            seen.append(self.headers.get("Host", ""))
            received = len(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            body = json.dumps(
                {"path": self.path, "headers": dict(self.headers), "received": received}
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Quiet: pytest output stays readable."""

    return Echo


def serve_https(ca: trustme.CA, names: list[str]) -> tuple[ThreadingHTTPServer, list[str]]:
    seen: list[str] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(seen))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    # The handshake runs in the handler thread, so a refused one closes its socket cleanly.
    server.socket = context.wrap_socket(
        server.socket, server_side=True, do_handshake_on_connect=False
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


@pytest.fixture(scope="session")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstream]:
    ca = trustme.CA()
    ca_file = tmp_path_factory.mktemp("upstream") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server, seen = serve_https(ca, UPSTREAM_NAMES)
    yield Upstream(server.server_address[1], ca, ca_file, seen)
    server.shutdown()
    server.server_close()


class MapHosts:
    """Test addon: connect these names on port 443 to the local upstream instead of resolving
    them; an explicit port (https://localhost:PORT/) is left alone."""

    def __init__(self, names: list[str], port: int) -> None:
        self._names = set(names)
        self._port = port

    def server_connect(self, data: ServerConnectionHookData) -> None:
        assert data.server.address is not None
        host, port = data.server.address
        if host in self._names and port == 443:
            data.server.address = ("127.0.0.1", self._port)


class RunningAgent:
    """The real `Agent` on an ephemeral loopback port, in a thread with its own event loop."""

    def __init__(
        self,
        config: RunConfig,
        extra: list[object],
        clock: Callable[[], dt.datetime] | None = None,
        pages: PageRenderer | None = None,
    ) -> None:
        self.agent = (
            Agent(config, extra_addons=extra, pages=pages)
            if clock is None
            else Agent(config, extra_addons=extra, clock=clock, pages=pages)
        )
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)

    def _main(self) -> None:
        asyncio.run(self.agent.run(on_ready=lambda _agent: self._ready.set()))

    def start(self) -> RunningAgent:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the agent did not start listening within 30 s")
        return self

    def stop(self) -> None:
        if not self._thread.is_alive():  # already stopped (a test may stop it itself)
            return
        self.agent.shutdown()
        self._thread.join(30)

    def raw(self, request: bytes) -> bytes:
        """Send bytes no well-behaved client library would send; return the reply's head
        (status line and headers)."""
        host, port = self.agent.addresses[0]
        with socket.create_connection((host, port), timeout=20) as conn:
            conn.sendall(request)
            reply = b""
            while b"\r\n\r\n" not in reply:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                reply += chunk
        return reply.partition(b"\r\n\r\n")[0]

    @property
    def proxy_url(self) -> str:
        host, port = self.agent.addresses[0]
        return f"http://{host}:{port}"

    @property
    def ca_file(self) -> Path:
        return self.agent.ca.public_cert

    def client(self, **kwargs: object) -> httpx.Client:
        """An httpx client that uses the proxy and trusts the agent's CA, as a browser would."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        return httpx.Client(proxy=self.proxy_url, verify=context, timeout=20, **kwargs)  # type: ignore[arg-type]


def start_agent(
    folder: Path,
    upstream: Upstream,
    clock: Callable[[], dt.datetime] | None = None,
    *,
    extra: Sequence[object] = (),
    pages: PageRenderer | None = None,
    reload_interval: float = 2.0,
    policy: str = POLICY,
) -> RunningAgent:
    """A running agent with the test policy (or `policy`), its data in `folder`, test names
    mapped.

    `extra` addons run after the test names are mapped; `pages` replaces the warning pages
    (a test factory for a failing part)."""
    config = RunConfig(
        host="127.0.0.1",
        port=0,
        data_dir=folder / "data",
        policy_path=write_policy(folder / "policy", policy),
        upstream_ca=upstream.ca_file,
        reload_interval=reload_interval,
    )
    addons = [MapHosts(UPSTREAM_NAMES, upstream.port), *extra]
    return RunningAgent(config, addons, clock=clock, pages=pages).start()


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory, upstream: Upstream) -> Iterator[RunningAgent]:
    agent = start_agent(tmp_path_factory.mktemp("agent"), upstream)
    yield agent
    agent.stop()
