"""A threaded HTTPS origin on loopback for the benchmarks that need to choose each answer
(bench/imagepage, bench/imagehostile): any number of names on one port, a throwaway `trustme`
CA the proxies are told to trust, each (host, path) answered with registered bytes and headers;
the table may be swapped between requests.  HTTP/1.1 only: bench/pageload uses nginx instead,
for HTTP/2 and an origin that costs next to nothing.

Run by hand only, never in CI: see the README of each bench that uses it.
"""

from __future__ import annotations

import ssl
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MB = 1024 * 1024


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
