"""Chat messages read through the real agent: a WebSocket chat server started here, a real
WebSocket client (the `websockets` package) through the proxy, and the inbox the agent was
given, which records what it was offered.

Two chats: a Discord-shaped one (the gateway over wss:// with zlib-stream compression, and a
REST send to discord.com) and a plain JSON one over ws:// that the policy names.  Each test
checks the exact messages, threads and senders offered, and that every frame reached the other
side unchanged.  Tests that start an agent of their own come last (the module's shared agent
first).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from mitmproxy import http

from abhaya.filters.chatwire.message import SeenMessage
from tests.agent.chatservers import (
    CHILD_ID,
    FRIEND_ID,
    POLICY_WITH_CHAT,
    TIMEOUT,
    ChatServer,
    Route,
    chat_server,
    dispatch,
    gateway_client,
    message_create,
    plain_client,
    receive,
    tls_context,
    zlib_stream,
)
from tests.agent.conftest import RunningAgent, Upstream, serve_https, start_agent
from tests.agent.test_chromium import chromium


class Inbox:
    """The agent's chat inbox for these tests: records every offer, in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offers: list[tuple[str, SeenMessage]] = []

    def offer(self, profile: str, message: SeenMessage) -> None:
        with self._lock:
            self._offers.append((profile, message))

    def take(self) -> list[tuple[str, SeenMessage]]:
        with self._lock:
            taken, self._offers = self._offers, []
        return taken


class FailingInbox(Inbox):
    """An inbox with a bug: every offer raises (a fault that cannot be caused otherwise)."""

    def offer(self, profile: str, message: SeenMessage) -> None:
        super().offer(profile, message)
        raise RuntimeError("inbox bug")


class LongestHistory:
    """Test addon: the most WebSocket messages any flow held at `websocket_message`."""

    def __init__(self) -> None:
        self.most = 0

    def websocket_message(self, flow: http.HTTPFlow) -> None:
        assert flow.websocket is not None
        self.most = max(self.most, len(flow.websocket.messages))


@dataclass
class World:
    agent: RunningAgent
    inbox: Inbox
    gateway: ChatServer
    plain: ChatServer
    rest_seen: list[str]
    history: LongestHistory


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, upstream: Upstream) -> Iterator[World]:
    gateway = chat_server(tls_context(upstream, "gateway.discord.gg"))
    plain = chat_server(None)
    rest, rest_seen = serve_https(upstream.ca, ["discord.com"])
    rest_port = int(rest.server_address[1])
    inbox, history = Inbox(), LongestHistory()
    routes = Route(
        {
            ("gateway.discord.gg", 443): gateway.port,
            ("kidchat.example", 80): plain.port,
            ("discord.com", 443): rest_port,
        }
    )
    agent = start_agent(
        tmp_path_factory.mktemp("chat"),
        upstream,
        extra=[routes, history],
        policy=POLICY_WITH_CHAT,
        chat=inbox,
        allow_local_ports=frozenset({upstream.port, gateway.port, plain.port, rest_port}),
        upstream_timeout=1.5,
    )
    yield World(agent, inbox, gateway, plain, rest_seen, history)
    agent.stop()
    for server in (gateway.server, plain.server):
        server.shutdown()
    rest.shutdown()
    rest.server_close()


def test_discord_gateway_messages_are_read_with_who_sent_them(world: World) -> None:
    frames = zlib_stream(
        [
            json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}).encode(),
            message_create(FRIEND_ID, "before ready", "1100"),
            dispatch("READY", {"v": 9, "user": {"id": CHILD_ID}, "guilds": []}),
            message_create(FRIEND_ID, "are your parents home?", "2200"),
            message_create(CHILD_ID, "no, why", "2200"),
            dispatch("TYPING_START", {"channel_id": "2200", "user_id": FRIEND_ID}),
            message_create(FRIEND_ID, "a long one " * 300, "3300"),
        ]
    )
    last = frames.pop()
    world.gateway.script[:] = [*frames, last[:7], last[7:]]  # the last payload split in two
    with gateway_client(world.agent) as client:
        assert receive(client, len(world.gateway.script)) == world.gateway.script
        heartbeat = json.dumps({"op": 1, "d": 7})
        client.send(heartbeat)
        assert client.recv(timeout=TIMEOUT) == heartbeat
    assert world.gateway.received[-1] == heartbeat
    assert world.gateway.paths[-1] == "/?encoding=json&v=9&compress=zlib-stream"
    assert world.inbox.take() == [
        ("teen", SeenMessage("discord", "1100", "unknown", "before ready")),
        ("teen", SeenMessage("discord", "2200", "contact", "are your parents home?")),
        ("teen", SeenMessage("discord", "2200", "child", "no, why")),
        ("teen", SeenMessage("discord", "3300", "contact", ("a long one " * 300).strip())),
    ]


def test_discord_rest_send_is_the_childs_and_reaches_the_site_unchanged(world: World) -> None:
    body = json.dumps({"content": "meet at the park?", "nonce": "12", "tts": False}).encode()
    with world.agent.client() as client:
        sent = client.post(
            "https://discord.com/api/v9/channels/4400/messages",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        typing = client.post("https://discord.com/api/v9/channels/4400/typing", content=b"")
    assert sent.status_code == 200 and typing.status_code == 200
    assert sent.json()["sha256"] == hashlib_sha256(body)
    assert world.inbox.take() == [
        ("teen", SeenMessage("discord", "4400", "child", "meet at the park?"))
    ]


def hashlib_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_plain_json_chat_the_policy_names_is_read_over_ws(world: World) -> None:
    greeting = json.dumps({"type": "message", "room": "r1", "text": "hello from them"})
    world.plain.script[:] = [greeting]
    mine = json.dumps({"type": "message", "room": "r1", "text": "hi back"})
    with plain_client(world.agent) as client:
        assert client.recv(timeout=TIMEOUT) == greeting
        client.send(mine)
        assert client.recv(timeout=TIMEOUT) == mine  # the server's echo
    assert world.plain.received[-1] == mine
    # What the child sent is the child's; what the server sent cannot be told (the echo of the
    # child's own message included), so it is "unknown".
    assert world.inbox.take() == [
        ("teen", SeenMessage("kidchat", "r1", "unknown", "hello from them")),
        ("teen", SeenMessage("kidchat", "r1", "child", "hi back")),
        ("teen", SeenMessage("kidchat", "r1", "unknown", "hi back")),
    ]


def test_a_websocket_path_the_policy_does_not_name_is_not_read(world: World) -> None:
    world.plain.script[:] = [json.dumps({"text": "not read"})]
    with plain_client(world.agent, "/other") as client:
        assert client.recv(timeout=TIMEOUT) == world.plain.script[0]
    assert world.inbox.take() == []


def test_a_long_lived_websocket_keeps_only_the_newest_message(world: World) -> None:
    world.plain.script[:] = []
    with plain_client(world.agent) as client:
        for n in range(60):
            client.send(json.dumps({"room": "r2", "text": f"n{n}"}))
            assert json.loads(client.recv(timeout=TIMEOUT))["text"] == f"n{n}"
    # 120 messages passed; at each, the flow held the one before and the new one at most.
    assert 1 <= world.history.most <= 2
    assert len(world.inbox.take()) == 120


def test_an_idle_websocket_outlives_the_upstream_timeout(world: World) -> None:
    world.plain.script[:] = []
    with plain_client(world.agent) as client:
        time.sleep(2.5)  # the agent gives an upstream 1.5 s to answer a request
        client.send(json.dumps({"room": "r3", "text": "still there?"}))
        assert json.loads(client.recv(timeout=TIMEOUT))["text"] == "still there?"
    assert [m.text for _, m in world.inbox.take()] == ["still there?", "still there?"]


def hostile_frames(count: int) -> list[bytes | str]:
    """Random bytes, non-UTF-8, 1 MB and deeply nested frames, truncated JSON: generated."""
    frames: list[bytes | str] = []
    for n in range(count):
        kind = n % 6
        if kind == 0:
            frames.append(os.urandom(64 + n % 500))
        elif kind == 1:
            frames.append(b"\xff\xfe" + "MESSAGE_CREATE".encode("utf-16") + b"\x80")
        elif kind == 2:
            frames.append("[" * 50_000 + "]" * 50_000)
        elif kind == 3:
            frames.append('{"op": 0, "t": "MESSAGE_CREATE", "d": {"content": "cut')
        elif kind == 4:
            frames.append(json.dumps({"text": {"text": {"text": {"text": {"text": {}}}}}}))
        else:
            frames.append(b"\x00\x00\xff\xff" * (n % 50 + 1))
    for big in range(3):
        frames.append(bytes([big]) * (1024 * 1024))
        frames.append('{"text": "' + "x" * (1024 * 1024) + '"}')
    return frames


def test_hostile_frames_leave_the_connections_open_and_the_proxy_serving(world: World) -> None:
    hostile = hostile_frames(300)
    world.gateway.script[:] = hostile
    world.plain.script[:] = hostile
    with gateway_client(world.agent) as gateway, plain_client(world.agent) as plain:
        assert receive(gateway, len(hostile)) == hostile
        assert receive(plain, len(hostile)) == hostile
        for frame in hostile[:60]:  # and the other way, echoed back
            plain.send(frame)
            assert plain.recv(timeout=TIMEOUT) == frame
        after = json.dumps({"room": "r4", "text": "still reading"})
        plain.send(after)
        assert plain.recv(timeout=TIMEOUT) == after
        gateway.send('{"op": 1, "d": null}')
        assert gateway.recv(timeout=TIMEOUT) == '{"op": 1, "d": null}'
    offered = world.inbox.take()
    # The 1 MB {"text": ...} frames are skipped, and nothing hostile reads as a message; the
    # message sent after them is read, both ways.
    assert [(m.thread, m.sender, m.text) for _, m in offered] == [
        ("r4", "child", "still reading"),
        ("r4", "unknown", "still reading"),
    ]
    with world.agent.client() as client:
        assert client.get("https://example.org/").status_code == 200


def test_a_ws_upgrade_sent_to_the_proxy_without_connect_is_read_too(world: World) -> None:
    """A plain ws:// upgrade in absolute form (a client that does not tunnel), on the wire."""
    world.plain.script[:] = []
    host, port = world.agent.agent.addresses[0]
    text = json.dumps({"room": "r5", "text": "no tunnel"}).encode()
    mask = os.urandom(4)
    frame = bytes([0x81, 0x80 | len(text)]) + mask
    frame += bytes(b ^ mask[n % 4] for n, b in enumerate(text))
    with socket.create_connection((host, port), timeout=TIMEOUT) as conn:
        conn.sendall(
            b"GET http://kidchat.example/live HTTP/1.1\r\nHost: kidchat.example\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += conn.recv(1)
        assert head.startswith(b"HTTP/1.1 101")
        conn.sendall(frame)
        echo = b""
        while len(echo) < 2 + len(text):
            echo += conn.recv(4096)
    assert echo == bytes([0x81, len(text)]) + text
    assert world.inbox.take() == [
        ("teen", SeenMessage("kidchat", "r5", "child", "no tunnel")),
        ("teen", SeenMessage("kidchat", "r5", "unknown", "no tunnel")),
    ]


@pytest.mark.chromium
def test_chromium_opens_the_gateway_through_the_proxy_and_it_is_read(
    world: World, tmp_path: Path
) -> None:
    """A real browser's WebSocket (Chromium talks HTTP/2 to the proxy for pages; mitmproxy does
    not offer WebSockets over HTTP/2, so the browser upgrades an HTTP/1.1 connection)."""
    home = trusting_home(tmp_path, world.agent.ca_file)
    world.gateway.script[:] = zlib_stream(
        [
            dispatch("READY", {"v": 9, "user": {"id": CHILD_ID}, "guilds": []}),
            message_create(FRIEND_ID, "hello from the browser test", "6600"),
        ]
    )
    script = (
        "const ws = new WebSocket('wss://gateway.discord.gg/?encoding=json&v=9"
        "&compress=zlib-stream'); ws.binaryType = 'arraybuffer'; let got = 0;"
        'ws.onmessage = (e) => { got += 1; if (got === 2) ws.send(\'{"op": 1, "d": 2}\'); '
        "if (got === 3) document.body.append('frames ' + got); };"
        "ws.onerror = () => document.body.append('socket error');"
    )
    # Headless Chromium dumps the page once nothing is loading, which a WebSocket does not
    # count as: an image answered only after the echo (or a second) keeps the page loading.
    world.gateway.echoed.clear()
    page = tmp_path / "chat.html"
    wait = "<img src='https://gateway.discord.gg/wait'>"
    page.write_text(f"<body><script>{script}</script>{wait}", encoding="utf-8")
    dom = chromium(home, world.agent.proxy_url, "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "frames 3" in dom.stdout, dom.stdout[-2000:]
    assert world.gateway.received[-1] == '{"op": 1, "d": 2}'
    assert world.inbox.take() == [
        ("teen", SeenMessage("discord", "6600", "contact", "hello from the browser test"))
    ]


def trusting_home(folder: Path, ca_file: Path) -> Path:
    """A home whose NSS database trusts the agent's CA, as `certutil -A` does for a user."""
    if shutil.which("certutil") is None:
        pytest.fail("certutil is required: run scripts/test.sh to install it")
    home = folder / "home"
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True)
    subprocess.run(
        ["certutil", "-d", f"sql:{nssdb}", "-A", "-t", "C,,", "-n", "Abhaya", "-i", str(ca_file)],
        check=True,
    )
    return home


# ---- tests with an agent of their own (after the module's shared agent) ----------------------


def test_a_fault_in_chat_reading_leaves_the_chat_untouched_and_is_logged_once(
    tmp_path: Path, upstream: Upstream, caplog: pytest.LogCaptureFixture
) -> None:
    gateway = chat_server(tls_context(upstream, "gateway.discord.gg"))
    rest, _ = serve_https(upstream.ca, ["discord.com"])
    rest_port = int(rest.server_address[1])
    inbox = FailingInbox()
    agent = start_agent(
        tmp_path,
        upstream,
        extra=[Route({("gateway.discord.gg", 443): gateway.port, ("discord.com", 443): rest_port})],
        policy=POLICY_WITH_CHAT,
        chat=inbox,
        allow_local_ports=frozenset({upstream.port, gateway.port, rest_port}),
    )
    caplog.set_level(logging.DEBUG, logger="abhaya.agent.addons.chatread")
    try:
        gateway.script[:] = zlib_stream(
            [message_create(FRIEND_ID, f"message {n}", "5500") for n in range(5)]
        )
        with gateway_client(agent) as client:
            assert receive(client, 5) == gateway.script
            client.send("ping")
            assert client.recv(timeout=TIMEOUT) == "ping"
        with agent.client() as http_client:
            for _ in range(2):
                body = json.dumps({"content": "sent anyway"}).encode()
                answer = http_client.post(
                    "https://discord.com/api/v9/channels/5500/messages",
                    content=body,
                    headers={"Content-Type": "application/json"},
                )
                assert answer.status_code == 200
                assert answer.json()["sha256"] == hashlib_sha256(body)
    finally:
        agent.stop()
        gateway.server.shutdown()
        rest.shutdown()
        rest.server_close()
    assert [m.text for _, m in inbox.take()] == [
        *(f"message {n}" for n in range(5)),
        "sent anyway",
        "sent anyway",
    ]
    failures = [
        r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and "chat" in r.name
    ]
    assert failures == [
        "chat reading failed at websocket_message; the traffic goes on unread "
        "(counted from now on, logged once)",
        "chat reading failed at request; the traffic goes on unread "
        "(counted from now on, logged once)",
    ]


def test_nothing_is_read_when_the_policy_turns_chat_off(tmp_path: Path, upstream: Upstream) -> None:
    plain = chat_server(None)
    inbox = Inbox()
    agent = start_agent(
        tmp_path,
        upstream,
        extra=[Route({("kidchat.example", 80): plain.port})],
        policy=POLICY_WITH_CHAT.replace("[chat]\nenabled = true", "[chat]\nenabled = false"),
        chat=inbox,
        allow_local_ports=frozenset({upstream.port, plain.port}),
    )
    try:
        plain.script[:] = [json.dumps({"room": "r", "text": "unread"})]
        with plain_client(agent) as client:
            assert client.recv(timeout=TIMEOUT) == plain.script[0]
            client.send(plain.script[0])
            assert client.recv(timeout=TIMEOUT) == plain.script[0]
    finally:
        agent.stop()
        plain.server.shutdown()
    assert inbox.take() == []
