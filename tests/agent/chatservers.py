"""Chat servers for the tests of chat reading and the chat watch: a WebSocket server that plays
a script and echoes, Discord's gateway framing (zlib-stream), clients through the agent, and a
policy naming a plain JSON chat.  Everything listens on loopback; names are routed to it."""

from __future__ import annotations

import getpass
import json
import ssl
import threading
import zlib
from dataclasses import dataclass, field

from mitmproxy.proxy.server_hooks import ServerConnectionHookData
from websockets.http11 import Request, Response
from websockets.sync.client import ClientConnection, connect
from websockets.sync.server import Server, ServerConnection, serve

from tests.agent.conftest import RunningAgent, Upstream
from tests.conftest import POLICY

CHILD_ID = "80351110224678912"
FRIEND_ID = "41771983423143937"
TIMEOUT = 20


@dataclass
class ChatServer:
    """A WebSocket server: on each connection it sends the frames queued in `script`, then
    echoes what the client sends (recording it in `received`)."""

    server: Server
    port: int
    script: list[bytes | str] = field(default_factory=list)
    received: list[bytes | str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    echoed: threading.Event = field(default_factory=threading.Event)
    """Set at each echo; a plain GET of /wait is answered once it is (or after 1 s)."""


def chat_server(context: ssl.SSLContext | None) -> ChatServer:
    chat: ChatServer

    def handler(conn: ServerConnection) -> None:
        chat.paths.append(conn.request.path if conn.request is not None else "")
        for frame in list(chat.script):
            conn.send(frame)
        for message in conn:
            chat.received.append(message)
            conn.send(message)
            chat.echoed.set()

    def wait(conn: ServerConnection, request: Request) -> Response | None:
        if request.path != "/wait":
            return None
        chat.echoed.wait(1.0)
        return conn.respond(200, "waited\n")

    server = serve(
        handler,
        "127.0.0.1",
        0,
        ssl=context,
        compression=None,
        max_size=None,
        process_request=wait,
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    chat = ChatServer(server, server.socket.getsockname()[1])
    return chat


class Route:
    """Test addon: connect (name, port) to a local port instead of resolving the name."""

    def __init__(self, routes: dict[tuple[str, int], int]) -> None:
        self._routes = routes

    def server_connect(self, data: ServerConnectionHookData) -> None:
        assert data.server.address is not None
        port = self._routes.get((str(data.server.address[0]), int(data.server.address[1])))
        if port is not None:
            data.server.address = ("127.0.0.1", port)


POLICY_WITH_CHAT = POLICY.replace(
    "[profiles.teen]\n", f'[profiles.teen]\nusers = ["{getpass.getuser()}"]\n'
) + (
    "\n[chat]\nenabled = true\n"
    '[[chat.sites]]\nhost = "kidchat.example"\nname = "kidchat"\nwebsocket_paths = ["/live"]\n'
)
"""This account's connections get the teen profile (so the profile offered is the one the
who addon found); kidchat.example is read as a generic JSON chat."""


def tls_context(upstream: Upstream, name: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    upstream.ca.issue_cert(name).configure_cert(context)
    return context


def dispatch(name: str, data: dict[str, object]) -> bytes:
    return json.dumps({"op": 0, "t": name, "s": 1, "d": data}).encode()


def message_create(author: str, text: str, channel: str) -> bytes:
    data = {"id": "1", "channel_id": channel, "author": {"id": author}, "content": text}
    return dispatch("MESSAGE_CREATE", data)


def zlib_stream(payloads: list[bytes]) -> list[bytes]:
    """The payloads as Discord's server frames them: one zlib stream, each payload flushed."""
    deflate = zlib.compressobj()
    return [deflate.compress(p) + deflate.flush(zlib.Z_SYNC_FLUSH) for p in payloads]


def gateway_client(agent: RunningAgent) -> ClientConnection:
    context = ssl.create_default_context(cafile=str(agent.ca_file))
    return connect(
        "wss://gateway.discord.gg/?encoding=json&v=9&compress=zlib-stream",
        proxy=agent.proxy_url,
        ssl=context,
        open_timeout=TIMEOUT,
        max_size=None,
    )


def plain_client(agent: RunningAgent, path: str = "/live") -> ClientConnection:
    return connect(
        f"ws://kidchat.example{path}", proxy=agent.proxy_url, open_timeout=TIMEOUT, max_size=None
    )


def receive(client: ClientConnection, count: int) -> list[bytes | str]:
    return [client.recv(timeout=TIMEOUT) for _ in range(count)]
