"""Pass-through tunnels relayed in front of mitmproxy, so they skip its per-connection machinery.

With `[inspect] mode = "needed"` most CONNECT tunnels are passed through undecrypted and
judged by name (`filters.inspect`).  mitmproxy still carried each one through its layers,
hooks and connection objects: on a page of forty hosts that machinery was about four fifths of
the event loop's busy time (bench/pageload), and the page's new connections queued behind it.

`TunnelRelay.around(handle_stream)` wraps the handler mitmproxy's listener calls for each
accepted connection.  It reads the CONNECT itself and relays the tunnel with plain asyncio
streams only where every check the addons would make says "pass through":

- the client is on loopback (anything else goes to mitmproxy's client-address guard);
- the request is `CONNECT name:port` to a name, not an address, with nothing after its head;
- `connection_inspection` for the client's account passes the name through (the same decision
  `PolicyAddon.tls_clienthello` makes, so a blocked, warned, searched or screened name is
  decrypted as before);
- the name resolves and no address is refused (`Destinations.refusal`);
- the first bytes in the tunnel are a TLS ClientHello naming that same name.

Everything else is handed to mitmproxy with the bytes already read, and the addons decide it
as before.  A tunnel that turns out to need mitmproxy after its `200` was sent (no server name,
another name, not TLS) is handed over with the CONNECT replayed and mitmproxy's own `200` held
back; if mitmproxy answers anything else, the connection is closed, never relayed.  Any error
closes the connection: nothing is relayed that was not decided.  A relayed tunnel is counted in
`Services.inspection` like the ones mitmproxy passes through, and judged again while it stays
open (`agent.passedtunnels`).

mitmproxy seams (11.0, pinned by tests/agent/test_tunnels.py): its listener takes the instance's
`handle_stream` when it starts, after `Servers.changed` is sent for a new server; the handler
reads its client only with `read()`, and writes its `200` to a CONNECT at once (the lazy
connection strategy).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

from mitmproxy.addons.proxyserver import Servers
from mitmproxy.net.http.http1.read import read_request_head
from mitmproxy.proxy.layers.tls import parse_client_hello
from mitmproxy.proxy.mode_servers import RegularInstance

from abhaya.agent.addons.destination import Destinations
from abhaya.agent.addons.policy import connection_inspection
from abhaya.agent.passedtunnels import Tunnel
from abhaya.agent.services import Services
from abhaya.filters.urlnorm import UrlError, ip_of, normalize_host

log = logging.getLogger(__name__)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

HEAD_LIMIT = 16 * 1024
"""A CONNECT head longer than this goes to mitmproxy, which has its own limits."""
HELLO_LIMIT = 64 * 1024
"""A ClientHello longer than this goes to mitmproxy (post-quantum ones are ~2 KiB)."""
IDLE_TIMEOUT = 600.0
"""Seconds a tunnel may carry nothing before it is closed (mitmproxy's own TCP timeout)."""
CHUNK = 256 * 1024
ESTABLISHED = b"HTTP/1.1 200 Connection established\r\n\r\n"
_FRONTED = "_abhaya_relayed"
"""Attribute marking a server whose handler the relay already wraps."""


async def open_upstream(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Open the server side of a relayed tunnel (a module function so a benchmark can route
    its made-up names to its one origin, as its addon does inside mitmproxy)."""
    return await asyncio.open_connection(host, port)


class _Handoff(Exception):
    """This connection is mitmproxy's: hand it over with `data` replayed.  `answered` says
    whether the client already has its `200`."""

    def __init__(self, data: bytes, answered: bool) -> None:
        super().__init__("handed to mitmproxy")
        self.data = data
        self.answered = answered


class TunnelRelay:
    """Relays the pass-through tunnels it can decide; hands everything else to mitmproxy."""

    def __init__(
        self, services: Services, destinations: Destinations, connect_timeout: float
    ) -> None:
        self._services = services
        self._destinations = destinations
        self._connect_timeout = connect_timeout
        self._ids = itertools.count(1)
        self._open: set[asyncio.Task[Any]] = set()
        self._servers: Servers | None = None
        self.relayed = 0
        """Tunnels relayed here since start (the rest went to mitmproxy)."""

    def around(self, handle: Handler) -> Handler:
        """`handle` (mitmproxy's handler for one accepted connection) behind the relay."""

        async def handle_stream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            if task is not None:
                self._open.add(task)
            try:
                await self._serve(reader, writer, handle)
            finally:
                if task is not None:
                    self._open.discard(task)

        return handle_stream

    def watch(self, servers: Servers) -> None:
        """Put the relay in front of each regular-mode server mitmproxy starts from now on."""
        self._servers = servers
        servers.changed.connect(self._front)

    def _front(self) -> None:
        """A receiver of `Servers.changed`, which mitmproxy sends before new servers listen."""
        assert self._servers is not None
        for server in self._servers:
            if not isinstance(server, RegularInstance) or server.is_running:
                continue
            if not getattr(server, _FRONTED, False):
                server.handle_stream = self.around(server.handle_stream)  # type: ignore[method-assign,assignment]
                setattr(server, _FRONTED, True)

    async def close(self) -> None:
        """Close every tunnel the relay is deciding or relaying (at shutdown, after the
        listeners closed); the connections handed to mitmproxy are left to it."""
        tasks = list(self._open)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, handle: Handler
    ) -> None:
        peer = writer.get_extra_info("peername")
        local = writer.get_extra_info("sockname")
        if not (_is_loopback(peer) and isinstance(local, tuple)):
            self._open.discard(asyncio.current_task())
            await handle(reader, writer)
            return
        ident = f"relay-{next(self._ids)}"
        try:
            upstream = await self._decide(reader, writer, ident, peer, local)
        except _Handoff as handoff:
            self._open.discard(asyncio.current_task())
            await handle(
                cast(asyncio.StreamReader, _Replay(handoff.data, reader)),
                cast(asyncio.StreamWriter, _AnsweredWriter(writer)) if handoff.answered else writer,
            )
            return
        except Exception as error:  # noqa: BLE001 - a tunnel that cannot be decided is closed
            if not isinstance(error, (OSError, asyncio.IncompleteReadError, TimeoutError)):
                log.exception("a tunnel could not be decided; closing it")
            writer.close()
            return
        if upstream is None:
            writer.close()
            return
        server, tunnel = upstream
        self.relayed += 1
        task = asyncio.current_task()
        assert task is not None
        # Judged again while open (`agent.passedtunnels`): cancelling the task closes both sides.
        token = self._services.passed.add(tunnel, task.cancel)
        try:
            await _relay(reader, writer, *server)
        finally:
            self._services.passed.discard(token)

    async def _decide(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        ident: str,
        peer: tuple[str, int],
        local: tuple[str, int],
    ) -> tuple[tuple[asyncio.StreamReader, asyncio.StreamWriter], Tunnel] | None:
        """The open server side of a tunnel to relay and what it was passed through on; None
        to close the client; raises `_Handoff` for mitmproxy."""
        async with asyncio.timeout(IDLE_TIMEOUT):
            head = await _read_head(reader)
        host, port = _tunnel_target(head)
        if not host:
            raise _Handoff(head, answered=False)
        services = self._services
        # Kept only for this decision: attach() never raises, and the relay needs no more.
        attribution = await services.who.attach(ident, peer[:2], local[:2])
        services.who.forget(ident)
        choice = connection_inspection(services, host, host, attribution.user)
        if choice.inspected:
            raise _Handoff(head, answered=False)
        resolved = await self._destinations.names.resolve(host)
        if resolved.error or self._destinations.refusal(resolved.addresses, port):
            raise _Handoff(head, answered=False)
        writer.write(ESTABLISHED)
        async with asyncio.timeout(IDLE_TIMEOUT):
            hello = await _read_hello(reader)
        if not _same_name(hello[1], host):
            raise _Handoff(head + hello[0], answered=True)
        services.inspection[choice.reason] += 1
        try:
            async with asyncio.timeout(self._connect_timeout):
                server = await open_upstream(resolved.addresses[0], port)
        except (OSError, TimeoutError) as error:
            log.info("could not reach %s port %s for a tunnel: %s", host, port, error)
            return None
        server[1].write(hello[0])
        return server, Tunnel(host, host, attribution.user)


class _Replay:
    """The client's reader for mitmproxy, giving back first what the relay already read."""

    def __init__(self, data: bytes, reader: asyncio.StreamReader) -> None:
        self._data = data
        self._reader = reader

    async def read(self, n: int = -1) -> bytes:
        if self._data:
            data, self._data = self._data, b""
            return data
        return await self._reader.read(n)


class _AnsweredWriter:
    """The client's writer for mitmproxy when the client already has its `200`: mitmproxy's
    own answer to the replayed CONNECT is held back; any other answer (a refusal: the client
    expects TLS by now) closes the connection."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._head = bytearray()
        self._state = "head"
        """"head" until mitmproxy's answer is read, then "passed" or "refused"."""

    def write(self, data: bytes) -> None:
        if self._state == "passed":
            self._writer.write(data)
            return
        if self._state == "refused":
            return
        self._head += data
        end = self._head.find(b"\r\n\r\n")
        if end < 0:
            if len(self._head) > HEAD_LIMIT:
                self._refuse()
            return
        status = bytes(self._head[:end]).split(b"\r\n", 1)[0].split(b" ")
        rest = bytes(self._head[end + 4 :])
        self._head.clear()
        if len(status) < 2 or not status[1].startswith(b"2"):
            log.warning("mitmproxy refused a tunnel that was already open; closing it")
            self._refuse()
            return
        self._state = "passed"
        if rest:
            self._writer.write(rest)

    def _refuse(self) -> None:
        self._state = "refused"
        self._head.clear()
        self._writer.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._writer, name)


async def _read_head(reader: asyncio.StreamReader) -> bytes:
    """The request head, through its blank line; a head over the limit is returned as read so
    far (mitmproxy then refuses it)."""
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        return await reader.read(HEAD_LIMIT)


def _tunnel_target(head: bytes) -> tuple[str, int]:
    """("name", port) for a plain `CONNECT name:port` head; ("", 0) for anything else (an
    address, another method, a body, a head that does not parse)."""
    if not head.endswith(b"\r\n\r\n") or len(head) > HEAD_LIMIT:
        return "", 0
    try:
        request = read_request_head(head[:-4].split(b"\r\n"))
    except ValueError:
        return "", 0
    if request.method != "CONNECT" or request.http_version not in ("HTTP/1.1", "HTTP/1.0"):
        return "", 0
    if "content-length" in request.headers or "transfer-encoding" in request.headers:
        return "", 0
    host = request.host
    try:
        ip_of(host)
    except ValueError:
        return host, request.port
    return "", 0


async def _read_hello(reader: asyncio.StreamReader) -> tuple[bytes, str | None]:
    """The bytes read once a whole ClientHello arrived, and its server name; the name is None
    when the bytes are not TLS, the hello is over the limit or names no server.  Raises
    `IncompleteReadError` when the client stops first."""
    data = b""
    while True:
        chunk = await reader.read(HELLO_LIMIT)
        if not chunk:
            raise asyncio.IncompleteReadError(data, None)
        data += chunk
        try:
            hello = parse_client_hello(data)
        except ValueError:
            return data, None
        if hello is not None:
            return data, hello.sni
        if len(data) > HELLO_LIMIT:
            return data, None


def _same_name(sni: str | None, host: str) -> bool:
    if not sni:
        return False
    try:
        return normalize_host(sni.rstrip(".")) == normalize_host(host.rstrip("."))
    except UrlError:
        return False


def _is_loopback(peer: object) -> bool:
    if not isinstance(peer, tuple) or not peer:
        return False
    try:
        return ip_of(str(peer[0])).is_loopback
    except ValueError:
        return False


async def _relay(
    client_reader: asyncio.StreamReader,
    client_writer: asyncio.StreamWriter,
    server_reader: asyncio.StreamReader,
    server_writer: asyncio.StreamWriter,
) -> None:
    """Copy both ways until both sides are done or one fails, then close both."""
    active = [time.monotonic()]

    async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        while data := await source.read(CHUNK):
            active[0] = time.monotonic()
            sink.write(data)
            await sink.drain()
        if sink.can_write_eof() and not sink.is_closing():
            sink.write_eof()

    async def idle() -> None:
        while True:
            left = active[0] + IDLE_TIMEOUT - time.monotonic()
            if left <= 0:
                return
            await asyncio.sleep(left)

    pumps = {
        asyncio.ensure_future(pump(client_reader, server_writer)),
        asyncio.ensure_future(pump(server_reader, client_writer)),
    }
    watch = asyncio.ensure_future(idle())
    try:
        live = set(pumps)
        while live:
            done, _ = await asyncio.wait(live | {watch}, return_when=asyncio.FIRST_COMPLETED)
            if watch in done:  # idle too long
                break
            live -= done
            if any(task.exception() is not None for task in done):  # a side failed
                break
    finally:
        for task in (*pumps, watch):
            task.cancel()
        for side in (client_writer, server_writer):
            with contextlib.suppress(Exception):
                side.close()
        await asyncio.gather(*pumps, watch, return_exceptions=True)
