"""Gives up on an upstream server that connects but never answers.

mitmproxy 11.0 has no upstream timeout: a server that accepts the connection and then stays
silent (or a connect that is never answered) holds the child's page loading for ten minutes,
until the client connection's idle timeout.  This addon gives each server connection
`timeout` seconds to connect, finish TLS and send the response headers, counted afresh at each
step and each uploaded chunk, so a long upload is not cut off.  When the time is up it marks
the connection as timed out and cancels the task that runs it; mitmproxy
then reports the flow as failed and `upstream_errors` shows the "did not answer" page
(`timed_out` tells it which failures were timeouts).

mitmproxy seam (11.0, pinned by tests/agent/addons/test_upstream_errors.py): `server_connect`
and `server_connected` run inside the task that opens and then reads that server connection
(`ConnectionHandler.open_connection`), so `asyncio.current_task()` there is the task to cancel.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Iterable

from mitmproxy import http, tls
from mitmproxy.connection import Server
from mitmproxy.proxy.server_hooks import ServerConnectionHookData

TIMED_OUT = "abhaya: the server did not answer in time"


Key = tuple[str, str, int]
"""A client connection's id and the host and port it asked for."""
_KEEP_EXPIRED = 60.0
"""Seconds an expiry is remembered for the flow that reports it."""


class _Watch:
    __slots__ = ("handle", "key", "task")

    def __init__(self, task: asyncio.Task[object], key: Key) -> None:
        self.task = task
        self.key = key
        self.handle: asyncio.TimerHandle | None = None


class UpstreamTimeout:
    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._watches: weakref.WeakKeyDictionary[Server, _Watch] = weakref.WeakKeyDictionary()
        self._expired: weakref.WeakSet[Server] = weakref.WeakSet()
        self._expired_keys: dict[Key, float] = {}

    def timed_out(self, flow: http.HTTPFlow) -> bool:
        """Whether the flow failed because its server connection timed out.

        A connection that failed before the HTTP layer took it (in the TLS handshake, say) is
        not the flow's `server_conn`, so it is also found by client connection and address.
        """
        request = flow.request
        key = (flow.client_conn.id, request.host, request.port)
        by_key = self._expired_keys.pop(key, None) is not None
        return (
            by_key
            or flow.server_conn in self._expired
            or (flow.error is not None and TIMED_OUT in flow.error.msg)
        )

    def server_connect(self, data: ServerConnectionHookData) -> None:
        task = asyncio.current_task()
        address = data.server.address
        if task is None or data.server.error or address is None:
            return
        key = (data.client.id, str(address[0]), int(address[1]))
        self._watches[data.server] = _Watch(task, key)
        self._arm(data.server)

    def server_connected(self, data: ServerConnectionHookData) -> None:
        self._arm(data.server)

    def tls_established_server(self, data: tls.TlsData) -> None:
        if isinstance(data.conn, Server):
            self._arm(data.conn)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        """A streamed upload counts as activity: each chunk restarts the clock."""
        if flow.request.stream is True:

            def forward(chunk: bytes) -> Iterable[bytes]:
                self._arm(flow.server_conn)
                return [chunk] if chunk else []

            flow.request.stream = forward

    def request(self, flow: http.HTTPFlow) -> None:
        """The whole request has been sent (or is about to be): wait for the answer."""
        if flow.response is None:
            self._arm(flow.server_conn)

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        self._disarm(flow.server_conn)

    def server_connect_error(self, data: ServerConnectionHookData) -> None:
        self._forget(data.server)

    def server_disconnected(self, data: ServerConnectionHookData) -> None:
        self._forget(data.server)

    def _arm(self, server: Server) -> None:
        watch = self._watches.get(server)
        if watch is None:
            return
        if watch.handle is not None:
            watch.handle.cancel()
        watch.handle = asyncio.get_running_loop().call_later(
            self._timeout, self._expire, server, watch
        )

    def _disarm(self, server: Server) -> None:
        watch = self._watches.get(server)
        if watch is not None and watch.handle is not None:
            watch.handle.cancel()
            watch.handle = None

    def _forget(self, server: Server) -> None:
        self._disarm(server)
        self._watches.pop(server, None)

    def _expire(self, server: Server, watch: _Watch) -> None:
        watch.handle = None
        self._expired.add(server)
        now = time.monotonic()
        for key, when in list(self._expired_keys.items()):
            if now - when > _KEEP_EXPIRED:
                del self._expired_keys[key]
        self._expired_keys[watch.key] = now
        watch.task.cancel(TIMED_OUT)
