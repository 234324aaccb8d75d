"""A refused upload gets the warning page at once: its body is not read (nor held in memory)
and never reaches the upstream, whatever its size or framing."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from abhaya.agent.addons.early_answer import SMALL_BODY
from tests.agent.conftest import RunningAgent, Upstream

BIG = 48 * 1024 * 1024


def _chunks(total: int) -> Iterator[bytes]:
    piece = b"u" * (1024 * 1024)
    for _ in range(total // len(piece)):
        yield piece


@pytest.mark.parametrize("size", [10_000, SMALL_BODY + 1, 3 * 1024 * 1024, BIG])
def test_a_large_upload_to_a_blocked_site_gets_the_page_and_never_arrives(
    running: RunningAgent, upstream: Upstream, size: int
) -> None:
    before = len(upstream.hosts_seen)
    with running.client() as client:
        answer = client.post("https://adult.example/upload", content=b"x" * size)
    assert answer.status_code == 403
    assert 'id="page-heading"' in answer.text
    assert "adult.example" in answer.text
    assert upstream.hosts_seen[before:] == []


def test_a_chunked_upload_to_a_blocked_site_gets_the_page(
    running: RunningAgent, upstream: Upstream
) -> None:
    before = len(upstream.hosts_seen)
    with running.client() as client:
        answer = client.post("https://adult.example/upload", content=_chunks(BIG))
    assert answer.status_code == 403
    assert "adult.example" in answer.text
    assert upstream.hosts_seen[before:] == []


def test_the_page_comes_before_the_body_is_sent(running: RunningAgent) -> None:
    """The proxy answers on the headers alone: a client that announces 48 MiB and sends
    nothing more still gets the page (the proxy does not wait for, or read, the body)."""
    host, port = running.agent.addresses[0]
    head = (
        "POST http://adult.example/upload HTTP/1.1\r\nHost: adult.example\r\n"
        f"Content-Length: {BIG}\r\n\r\n"
    )
    with socket.create_connection((host, port), 10) as sock:
        sock.sendall(head.encode())
        answer = sock.makefile("rb")
        status = answer.readline()
        rest = answer.read(200_000)
    assert status.split()[1] == b"403"
    assert b"adult.example" in rest
