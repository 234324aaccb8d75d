"""Serving the control API on loopback: stdlib HTTP in a daemon thread of the agent.

The API is small and local, so `http.server` suffices: one thread per request, HTTP/1.0 (every
response closes its connection, which keeps streamed exports simple).  This module owns the
transport rules, checked before any handler runs:

- only requests addressed to the API's own loopback address (Host header) are answered, so a
  web page that rebinds its DNS name to 127.0.0.1 gets 403;
- requests that carry an Origin header come from a web page, and get 403: browsers do not send
  cross-site requests through the proxy, so this is where pages are kept out;
- bodies are JSON (415 otherwise), at most MAX_BODY bytes (413), with a length (411);
- a slow client is cut off after REQUEST_TIMEOUT_S, and a handler's unexpected error is logged
  and answered with a generic 500: no traceback reaches a client and the agent stays up.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from abhaya.agent.api.discovery import (
    PUBLISHED_MODE,
    ApiAddress,
    remove_api_file,
    write_api_file,
)
from abhaya.agent.api.routes import ControlApi
from abhaya.agent.api.wire import ApiError, Request, Response
from abhaya.agent.endpoint import ApiEndpoint

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
MAX_DRAIN = 1024 * 1024
"""An oversized body up to this size is read and dropped, so the client sees the 413."""
MAX_QUERY_FIELDS = 50
REQUEST_TIMEOUT_S = 10.0
POLL_INTERVAL_S = 0.1


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a stuck client never holds up the agent's shutdown

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, handler)


class ApiServer:
    """The API on `host:port` (port 0: a free one).  start() and stop() from any thread.

    `publish_dir` (the service's runtime folder) gets a copy of api.json that every account
    can read (`discovery`); None: only the data dir's."""

    def __init__(
        self,
        api: ControlApi,
        endpoint: ApiEndpoint,
        data_dir: Path,
        host: str,
        port: int,
        publish_dir: Path | None = None,
    ) -> None:
        self._api = api
        self._endpoint = endpoint
        self._data_dir = data_dir
        self._publish_dir = publish_dir
        self._host = host
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.address: ApiAddress | None = None

    def start(self) -> ApiAddress:
        """Listen, serve in a daemon thread and write api.json; OSError if it cannot listen."""
        server = _Server((self._host, self._port), _handler(self._api, self._allowed_hosts))
        port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(POLL_INTERVAL_S,), name="abhaya-api", daemon=True
        )
        self._thread.start()
        self.address = ApiAddress(self._host, port, os.getpid())
        self._endpoint.set(port)
        write_api_file(self._data_dir, self.address)
        if self._publish_dir is not None:
            try:
                write_api_file(self._publish_dir, self.address, PUBLISHED_MODE)
            except OSError as error:  # the data dir's copy still serves its own account
                log.warning("could not publish api.json in %s: %s", self._publish_dir, error)
        log.info("control API on %s", self.address.base_url)
        return self.address

    def stop(self) -> None:
        """Stop answering, close the socket and remove api.json.  Safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        remove_api_file(self._data_dir, os.getpid())
        if self._publish_dir is not None:
            remove_api_file(self._publish_dir, os.getpid())
        self._endpoint.set(None)
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def _allowed_hosts(self) -> frozenset[str]:
        port = self.address.port if self.address is not None else self._port
        return frozenset({f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"})


def _handler(
    api: ControlApi, allowed_hosts: Callable[[], frozenset[str]]
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = REQUEST_TIMEOUT_S

        def version_string(self) -> str:
            return "Abhaya"

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._serve()

        do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET  # noqa: N815

        def _serve(self) -> None:
            try:
                response = api.handle(self._request())
            except ApiError as error:
                response = error.response()
            except Exception:  # noqa: BLE001 - the boundary: log it, answer 500, stay up
                log.exception("control API: %s %s failed", self.command, self.path)
                response = ApiError(500, "internal error; see the agent's log").response()
            self._send(response)

        def _request(self) -> Request:
            headers = {name.lower(): value for name, value in reversed(self.headers.items())}
            if headers.get("host") not in allowed_hosts():
                raise ApiError(403, "the control API answers only requests addressed to it")
            if "origin" in headers:
                raise ApiError(403, "the control API does not answer web pages")
            url = urlsplit(self.path)
            try:
                query = parse_qs(url.query, keep_blank_values=True, max_num_fields=MAX_QUERY_FIELDS)
            except ValueError as error:
                raise ApiError(400, f"bad query string: {error}") from None
            return Request(
                method=self.command,
                path=url.path,
                query={name: tuple(values) for name, values in query.items()},
                headers=headers,
                body=self._body(headers),
            )

        def _body(self, headers: dict[str, str]) -> bytes:
            if "transfer-encoding" in headers:
                raise ApiError(411, "send the body with a Content-Length, not chunked")
            length_text = headers.get("content-length")
            if length_text is None:
                return b""
            if not length_text.strip().isdigit():
                raise ApiError(400, "Content-Length is not a number")
            length = int(length_text)
            if length > MAX_BODY:
                self._drain(length)
                raise ApiError(413, f"the request body is larger than {MAX_BODY} bytes")
            content_type = headers.get("content-type", "").partition(";")[0].strip().lower()
            if length and content_type != "application/json":
                raise ApiError(415, "the request body must be application/json")
            try:
                body = self.rfile.read(length)
            except OSError:
                raise ApiError(408, "the request body did not arrive in time") from None
            if len(body) != length:
                raise ApiError(400, "the request body is shorter than its Content-Length")
            return body

        def _drain(self, length: int) -> None:
            """Read and drop a refused body (up to MAX_DRAIN), so the client reads the 413
            instead of a reset connection."""
            left = min(length, MAX_DRAIN)
            try:
                while left > 0:
                    chunk = self.rfile.read(min(left, 64 * 1024))
                    if not chunk:
                        return
                    left -= len(chunk)
            except OSError:
                return

        def _send(self, response: Response) -> None:
            try:
                self.send_response(response.status)
                self.send_header("Content-Type", response.content_type)
                self.send_header("Cache-Control", "no-store")
                self.send_header("X-Content-Type-Options", "nosniff")
                for name, value in response.headers:
                    self.send_header(name, value)
                if isinstance(response.body, bytes):
                    self.send_header("Content-Length", str(len(response.body)))
                    self.end_headers()
                    self.wfile.write(response.body)
                else:
                    self.end_headers()
                    self._stream(iter(response.body))
            except OSError as error:
                log.debug("control API: client went away: %s", error)
            self.close_connection = True

        def _stream(self, chunks: Iterator[bytes]) -> None:
            """Write chunks as they are made; the status is already sent, so a failure midway
            can only be logged and the response cut short (the client sees a short body)."""
            try:
                for chunk in chunks:
                    self.wfile.write(chunk)
            except OSError:
                raise
            except Exception:  # noqa: BLE001 - the boundary, as in _serve
                log.exception("control API: %s %s failed while streaming", self.command, self.path)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()  # on this thread: the generator's store connection belongs to it

        def send_error(
            self, code: int, message: str | None = None, explain: str | None = None
        ) -> None:
            """http.server's own refusals (bad request line, unknown method) as JSON too."""
            text = message or HTTPStatus(code).phrase
            self._send(ApiError(code, text).response())

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            log.debug("control API: " + format, *args)

    return Handler
