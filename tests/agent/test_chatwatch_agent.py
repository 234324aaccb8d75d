"""Chat risk end to end: a Discord-shaped chat through the real agent, its own chat watch with
the shipped model, an alert in the encrypted store, listed by the control API.

The chat server (started here) speaks Discord's gateway with zlib-stream compression; a real
WebSocket client connects through the proxy.  A contact asks the child personal questions,
for secrecy and for a photo: the agent must raise one grooming alert holding those messages,
and the child's own reply must not count as the contact's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from abhaya.client import contract
from tests.agent.api.conftest import PIN, ApiAgent, Clock, set_first_pin
from tests.agent.chatservers import (
    CHILD_ID,
    FRIEND_ID,
    POLICY_WITH_CHAT,
    ChatServer,
    Route,
    chat_server,
    dispatch,
    gateway_client,
    message_create,
    receive,
    tls_context,
    zlib_stream,
)
from tests.agent.conftest import Upstream, start_agent

CONTACT_SAYS = (
    "hey are your parents at home right now?",
    "dont tell anyone about our chats ok",
    "send me a pic of you, just for me",
)


@pytest.fixture
def chat_agent(tmp_path: Path, upstream: Upstream) -> Iterator[tuple[ApiAgent, ChatServer]]:
    gateway = chat_server(tls_context(upstream, "gateway.discord.gg"))
    clock = Clock()
    running = start_agent(
        tmp_path,
        upstream,
        extra=[Route({("gateway.discord.gg", 443): gateway.port})],
        policy=POLICY_WITH_CHAT,
        clock=clock,
        allow_local_ports=frozenset({upstream.port, gateway.port}),
    )
    agent = set_first_pin(ApiAgent(running, clock, tmp_path / "data"))
    yield agent, gateway
    running.stop()
    gateway.server.shutdown()


def until(answer: Any, timeout: float = 20.0) -> Any:
    """Poll `answer()` until it is truthy: the watch checks messages off the event loop."""
    deadline = time.monotonic() + timeout
    while not (found := answer()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def test_a_grooming_thread_through_the_proxy_raises_an_alert_with_its_messages(
    chat_agent: tuple[ApiAgent, ChatServer],
) -> None:
    agent, gateway = chat_agent
    payloads = [dispatch("READY", {"v": 9, "user": {"id": CHILD_ID}, "guilds": []})]
    payloads.append(message_create(FRIEND_ID, "hi! you play minecraft too?", "5500"))
    payloads.append(message_create(CHILD_ID, "can we meet at the library", "5500"))
    payloads += [message_create(FRIEND_ID, text, "5500") for text in CONTACT_SAYS]
    gateway.script[:] = zlib_stream(payloads)
    with gateway_client(agent.running) as client:
        assert receive(client, len(gateway.script)) == gateway.script  # the chat, unchanged

    with agent.client() as api:
        api.headers.update(agent.login(api, PIN))

        def chat_alerts() -> list[dict[str, Any]]:
            listed = api.get(contract.ALERTS).json()["alerts"]
            return [alert for alert in listed if alert["kind"] == "chat"]

        (alert,) = until(chat_alerts)
        status = until(lambda: (s := api.get(contract.STATUS).json())["chat"]["checked"] >= 5 and s)
    assert (alert["severity"], alert["profile"], alert["acknowledged"]) == (
        "critical",
        "teen",
        False,
    )
    assert alert["message"].startswith("Signs of grooming in a chat on discord")
    evidence = alert["chat"]
    assert (evidence["site"], evidence["thread"], evidence["risk"]) == (
        "discord",
        "5500",
        "grooming",
    )
    said = [(m["sender"], m["text"]) for m in evidence["messages"]]
    assert [text for sender, text in said if sender == "contact"] == list(CONTACT_SAYS)
    # The child's meeting idea is kept as what the child said, never as the contact's request.
    assert all(sender in {"contact", "child"} for sender, _ in said)
    assert {"personal_info", "secrecy", "image_request"} <= set(evidence["labels"])
    assert "meeting" not in evidence["labels"]
    chat = status["chat"]
    assert (chat["running"], chat["dropped"], chat["failed"]) == (True, 0, 0)
    assert chat["alerts"] == 1 and chat["checked"] == 5
    assert (chat["read"], chat["skipped"], chat["reader_faults"]) == (5, 0, 0)
    assert status["models"]["chat"] is not None and "chat-head" in status["models"]["chat"]
