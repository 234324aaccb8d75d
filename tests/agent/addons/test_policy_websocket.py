"""An open WebSocket is decided again while it stays open (`PolicyAddon.websocket_message`),
on a real agent with a real WebSocket server and client through the proxy (decrypted: the
policy inspects everything, as a school's would).

Browsing is allowed 09:00-11:00 here.  A chat opened at 10:00 goes on working until the allowed
hours end or a new policy stops it; then the next message is not delivered, the connection is
closed, and a reconnection is refused.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from abhaya.agent import passedtunnels
from abhaya.agent.addons.policy import PolicyAddon
from tests.agent.api.conftest import Clock
from tests.agent.chatservers import ChatServer, chat_server, tls_context
from tests.agent.conftest import RunningAgent, Upstream, start_agent
from tests.agent.test_passedtunnels import EVERYTHING, MORNING
from tests.conftest import with_allowed_hours

SCHOOL_HOURS = with_allowed_hours(EVERYTHING, "09:00", "11:00")


@pytest.fixture
def chat(upstream: Upstream) -> Iterator[ChatServer]:
    server = chat_server(tls_context(upstream, "localhost"))
    yield server
    server.server.shutdown()


def _start(
    folder: Path, upstream: Upstream, chat: ChatServer, clock: Clock, policy: str
) -> RunningAgent:
    ports = frozenset({upstream.port, chat.port})
    return start_agent(folder, upstream, clock=clock, policy=policy, allow_local_ports=ports)


def _open(agent: RunningAgent, chat: ChatServer) -> ClientConnection:
    context = ssl.create_default_context(cafile=str(agent.ca_file))
    return connect(f"wss://localhost:{chat.port}/live", proxy=agent.proxy_url, ssl=context)


def _delivered(client: ClientConnection, chat: ChatServer, text: str) -> bool:
    """Whether `text` reached the server and came back; False once the proxy closed the chat."""
    try:
        client.send(text)
        return client.recv(timeout=10) == text
    except ConnectionClosed:
        return False


def test_a_chat_open_when_the_allowed_hours_end_is_closed(
    tmp_path: Path, upstream: Upstream, chat: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(passedtunnels, "RECHECK_SECONDS", 0.0)  # decided at every message
    clock = Clock(MORNING)
    agent = _start(tmp_path, upstream, chat, clock, SCHOOL_HOURS)
    try:
        with _open(agent, chat) as client:
            assert _delivered(client, chat, "before eleven")
            assert _delivered(client, chat, "still before eleven")
            clock.advance(hours=1, minutes=1)
            assert not _delivered(client, chat, "after eleven")
        assert "after eleven" not in chat.received
        with pytest.raises(InvalidStatus) as refused:
            _open(agent, chat)
        assert refused.value.response.status_code == 403
    finally:
        agent.stop()


def test_a_new_policy_reaches_an_open_chat_at_its_next_message(
    tmp_path: Path, upstream: Upstream, chat: ChatServer
) -> None:
    """At noon, a policy with allowed hours 09:00-11:00 replaces one without: the next message
    is decided at once (not after `RECHECK_SECONDS`)."""
    clock = Clock(MORNING)
    clock.advance(hours=2)
    agent = _start(tmp_path, upstream, chat, clock, EVERYTHING)
    try:
        with _open(agent, chat) as client:
            assert _delivered(client, chat, "any time")
            agent.agent.services.policy.replace_text(SCHOOL_HOURS)
            assert not _delivered(client, chat, "after the new policy")
        assert "after the new policy" not in chat.received
    finally:
        agent.stop()


def test_a_chat_that_cannot_be_decided_again_is_closed(
    tmp_path: Path, upstream: Upstream, chat: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault in the decision (caused here by replacing it, the only way to make it fail)
    closes the chat instead of letting it go on unjudged."""
    clock = Clock(MORNING)
    agent = _start(tmp_path, upstream, chat, clock, EVERYTHING)
    try:
        with _open(agent, chat) as client:
            assert _delivered(client, chat, "decided")

            def broken(*args: object) -> None:
                raise RuntimeError("the decision failed")

            monkeypatch.setattr(PolicyAddon, "_decide_both", broken)
            agent.agent.services.policy.replace_text(EVERYTHING)  # judge the next message
            assert not _delivered(client, chat, "undecided")
        assert "undecided" not in chat.received
    finally:
        agent.stop()
