"""The limits addon on a real proxy: oversized and malformed requests are refused cheaply, and
the agent stays up."""

from __future__ import annotations

import pytest

from tests.agent.conftest import RunningAgent


@pytest.mark.parametrize(
    ("url", "headers", "status"),
    [
        ("https://example.org/?q=" + "a" * 40000, {}, 414),
        ("https://example.org/", {f"x-flood-{n}": "y" * 100 for n in range(400)}, 431),
        ("https://example.org/search?q=%ff%fe%00online%20casino", {}, 403),
        ("https://example.org/%00%c0%af/..%2f..%2f", {}, 200),
    ],
)
def test_hostile_requests_are_decided_or_refused(
    running: RunningAgent, url: str, headers: dict[str, str], status: int
) -> None:
    with running.client() as client:
        response = client.get(url, headers=headers)
        assert response.status_code == status
        # ... and the agent is still up and filtering.
        assert client.get("https://adult.example/").status_code == 403


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        # a 64 kB search query
        (b"GET http://www.bing.com/search?q=" + b"a" * 65536 + b" HTTP/1.1\r\n\r\n", b"414"),
        # invalid UTF-8 and NUL in the request line
        (
            b"GET http://www.bing.com/search?q=\xff\xfe\x00 HTTP/1.1\r\nHost: www.bing.com\r\n\r\n",
            b"400",
        ),
        # a header flood
        (
            b"GET http://example.org/ HTTP/1.1\r\nHost: example.org\r\n"
            + b"".join(b"X-A%d: %s\r\n" % (n, b"b" * 200) for n in range(2000))
            + b"\r\n",
            b"431",
        ),
    ],
)
def test_raw_hostile_requests_are_refused(
    running: RunningAgent, request_bytes: bytes, status: bytes
) -> None:
    assert running.raw(request_bytes).split(b" ")[1] == status
    with running.client() as client:
        assert client.get("https://adult.example/").status_code == 403
