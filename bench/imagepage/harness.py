"""What the two image benchmarks (bench/imagepage, bench/imagehostile) share: a real agent in a
child process of its own (so its RSS is its alone), and an HTTPS origin on loopback whose
names the agent is told to reach there.

- `AgentProcess`: this file run as `harness.py --child ...` builds the agent as `abhaya run`
  does (the database key in a key file: keyring's `fail` backend), with a small addon that
  routes the test names to the origin's port; on SIGTERM it stops and prints the image
  screener's counts (`services.images.counts`) as one JSON line.
- `Origin`: a threaded HTTPS server for any number of names (a throwaway CA the agent is told
  to trust), answering each (host, path) with registered bytes and headers; the table may be
  swapped between requests.

Run by hand only, never in CI: see each bench's README.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MB = 1024 * 1024
BASE_POLICY = """\
version = 1
[search_model]
enabled = false
[chat]
enabled = false
"""


def policy(images: bool) -> str:
    """The agent's policy: only image screening differs (the query model and chat reading are
    off in both, they are not what is measured)."""
    return BASE_POLICY + f"[images]\nenabled = {'true' if images else 'false'}\n"


# ---- the agent's side (child process) ---------------------------------------------------------


class Route:
    """Connects the routed names (any port) to the origin on loopback, and puts the name back
    once connected, as the agent's destination addon does, so that mitmproxy reuses the
    connection for the next request to that name."""

    def __init__(self, names: set[str], port: int) -> None:
        self._names = names
        self._port = port
        self._routed: dict[object, object] = {}

    def server_connect(self, data: object) -> None:
        server = data.server  # type: ignore[attr-defined]
        if server.address is not None and str(server.address[0]) in self._names:
            self._routed[server] = server.address
            server.address = ("127.0.0.1", self._port)

    def server_connected(self, data: object) -> None:
        self._restore(data)

    def server_connect_error(self, data: object) -> None:
        self._restore(data)

    def _restore(self, data: object) -> None:
        server = data.server  # type: ignore[attr-defined]
        name = self._routed.pop(server, None)
        if name is not None:
            object.__setattr__(server, "address", name)


def child(args: argparse.Namespace) -> int:
    from abhaya.agent.config import RunConfig
    from abhaya.agent.proxy import Agent

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    folder = Path(args.folder)
    config = RunConfig(
        host="127.0.0.1",
        port=0,
        data_dir=folder / "data",
        policy_path=folder / "policy.toml",
        upstream_ca=Path(args.upstream_ca),
        allow_local_ports=frozenset({args.origin_port}),
    )
    names = set(json.loads(args.names))
    agent = Agent(config, extra_addons=[Route(names, args.origin_port)])

    def ready(running: Agent) -> None:
        (folder / "port").write_text(str(running.addresses[0][1]))

    asyncio.run(agent.run(on_ready=ready, handle_signals=True))
    images = agent.services.images
    print(json.dumps({"counts": dict(images.counts) if images is not None else {}}))
    return 0


# ---- this process -----------------------------------------------------------------------------


def rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process, in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


class AgentProcess:
    """One agent in a child process; `stop()` returns the child's final JSON report."""

    def __init__(
        self, folder: Path, *, images: bool, names: list[str], origin: Origin, label: str
    ) -> None:
        self.folder = folder
        self.label = label
        folder.mkdir(parents=True)
        (folder / "policy.toml").write_text(policy(images))
        env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
        self._log = (folder / "agent.log").open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--child",
                "--folder",
                str(folder),
                "--names",
                json.dumps(names),
                "--origin-port",
                str(origin.port),
                "--upstream-ca",
                str(origin.ca_file),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        self.pid = self.process.pid

    def wait_ready(self, timeout: float = 90) -> str:
        """The proxy URL, once the agent listens."""
        deadline = time.monotonic() + timeout
        while not (self.folder / "port").exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                print(self.log_tail(), file=sys.stderr)
                raise SystemExit(f"the agent ({self.label}) did not start")
            time.sleep(0.1)
        return f"http://127.0.0.1:{(self.folder / 'port').read_text()}"

    @property
    def ca_file(self) -> Path:
        return self.folder / "data" / "ca" / "abhaya-ca.pem"

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, chars: int = 4000) -> str:
        return (self.folder / "agent.log").read_text(errors="replace")[-chars:]

    def stop(self) -> dict[str, object]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            out, _ = self.process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
        self._log.close()
        lines = out.decode(errors="replace").strip().splitlines()
        return json.loads(lines[-1]) if lines else {}


@dataclass
class Served:
    body: bytes
    content_type: str
    headers: Mapping[str, str] = field(default_factory=dict)


class Origin:
    """An HTTPS server for `names` on loopback; `routes[(host, path)]` is what it answers."""

    def __init__(self, names: list[str], folder: Path) -> None:
        import trustme

        ca = trustme.CA()
        self.ca_file = folder / "upstream-ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*names).configure_cert(context)
        self.routes: dict[tuple[str, str], Served] = {}
        self.requests = 0
        self._server = _QuietServer(("127.0.0.1", 0), _handler(self))
        self._server.socket = context.wrap_socket(
            self._server.socket, server_side=True, do_handshake_on_connect=False
        )
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _QuietServer(ThreadingHTTPServer):
    request_queue_size = 256  # the default 5 drops a browser's burst of connections (SYN retries)
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client (the proxy, a browser) that hangs up mid-answer is not an error here."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError)):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def _handler(origin: Origin) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers
        # Headers and body in one write, without Nagle: otherwise every small answer waits
        # ~40 ms for the client's delayed ACK, and that is what a throughput run would measure.
        wbufsize = 256 * 1024
        disable_nagle_algorithm = True

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            origin.requests += 1
            host = self.headers.get("Host", "").split(":", 1)[0]
            served = origin.routes.get((host, self.path.split("?", 1)[0]))
            if served is None:
                served = Served(b"not here", "text/plain", {"X-Status": "404"})
            self.send_response(int(served.headers.get("X-Status", "200")))
            self.send_header("Content-Type", served.content_type)
            self.send_header("Content-Length", str(len(served.body)))
            self.send_header("Cache-Control", "no-store")
            for name, value in served.headers.items():
                if name != "X-Status":
                    self.send_header(name, value)
            self.end_headers()
            self.wfile.write(served.body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Quiet."""

    return Handler


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true", required=True)
    parser.add_argument("--folder", required=True)
    parser.add_argument("--names", required=True)
    parser.add_argument("--origin-port", type=int, required=True)
    parser.add_argument("--upstream-ca", required=True)
    return child(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
