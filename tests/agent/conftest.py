"""Real parts for the proxy tests: a local HTTPS upstream and the agent running in a thread.

The machine has no internet, so names such as www.bing.com are mapped to the local upstream by
a small addon at `server_connect` (like an /etc/hosts entry for the proxy alone); everything
else, TLS on both sides included, is the real proxy path.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
from mitmproxy.proxy.server_hooks import ServerConnectionHookData

from abhaya.agent.config import RunConfig
from abhaya.agent.proxy import Agent
from tests.conftest import write_policy

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
    ) -> None:
        self.agent = (
            Agent(config, extra_addons=extra)
            if clock is None
            else Agent(config, extra_addons=extra, clock=clock)
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
    **settings: Any,
) -> RunningAgent:
    """A running agent with the test policy, its data in `folder`, test names mapped.

    The upstream is on this machine, so its port is deliberately allowed (as `abhaya run
    --allow-local-port` would); `settings` are further `RunConfig` fields, or replace it.
    """
    config = RunConfig(
        host="127.0.0.1",
        port=0,
        data_dir=folder / "data",
        policy_path=write_policy(folder / "policy"),
        upstream_ca=upstream.ca_file,
        **{"allow_local_ports": frozenset({upstream.port}), **settings},
    )
    return RunningAgent(config, [MapHosts(UPSTREAM_NAMES, upstream.port)], clock=clock).start()


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory, upstream: Upstream) -> Iterator[RunningAgent]:
    agent = start_agent(tmp_path_factory.mktemp("agent"), upstream)
    yield agent
    agent.stop()
