"""Every upstream failure gets Abhaya's own page in the child's language, saying what happened
and that it is not a block, over HTTP, HTTPS (CONNECT) and HTTP/2: real failures, caused by a
name that does not resolve, a closed port, a server that never answers and an untrusted
certificate.  mitmproxy's own error page never reaches the child."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import trustme

from tests.agent.conftest import RunningAgent, Upstream, serve_https, start_agent

TIMEOUT = 1.5
"""The test agent's upstream timeout (seconds)."""


@dataclass
class Failing:
    """Local servers that fail in each way, and an agent allowed to reach them."""

    agent: RunningAgent
    closed: int
    silent: int
    stranger: int
    stranger_seen: list[str]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory, upstream: Upstream) -> Iterator[Failing]:
    closed = _free_port()  # nothing listens there: connections are refused
    silent = socket.socket()  # the kernel accepts connections; nobody ever answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    stranger, seen = serve_https(trustme.CA(), ["localhost"])  # a CA the agent does not trust
    silent_port = int(silent.getsockname()[1])
    stranger_port = int(stranger.server_address[1])
    agent = start_agent(
        tmp_path_factory.mktemp("failing"),
        upstream,
        allow_local_ports=frozenset({upstream.port, closed, silent_port, stranger_port}),
        upstream_timeout=TIMEOUT,
    )
    yield Failing(agent, closed, silent_port, stranger_port, seen)
    agent.stop()
    stranger.shutdown()
    stranger.server_close()
    silent.close()


def _urls(failing: Failing) -> dict[str, list[str]]:
    return {
        "dns": ["http://nothing-here.invalid/page", "https://nothing-here.invalid/page"],
        "refused": [f"http://127.0.0.1:{failing.closed}/", f"https://127.0.0.1:{failing.closed}/"],
        "timeout": [f"http://127.0.0.1:{failing.silent}/", f"https://127.0.0.1:{failing.silent}/"],
        "certificate": [f"https://localhost:{failing.stranger}/"],
    }


FAILURE_TEXT = {
    "dns": "could not be found",
    "refused": "did not accept the connection",
    "timeout": "took too long to answer",
    "certificate": "security certificate could not be checked",
}
STATUS = {"dns": 502, "refused": 502, "timeout": 504, "certificate": 502}


def _check_page(answer: httpx.Response, failure: str) -> None:
    assert answer.status_code == STATUS[failure], answer.text[:500]
    assert answer.headers["content-type"].startswith("text/html")
    assert 'id="not-a-block"' in answer.text
    assert "This is not a block" in answer.text
    assert FAILURE_TEXT[failure] in answer.text
    assert "mitmproxy" not in answer.text.lower()
    assert "Errno" not in answer.text


@pytest.mark.parametrize("failure", ["dns", "refused", "timeout", "certificate"])
def test_each_upstream_failure_gets_abhayas_page(failing: Failing, failure: str) -> None:
    with failing.agent.client() as client:
        for url in _urls(failing)[failure]:
            started = time.monotonic()
            _check_page(client.get(url), failure)
            assert time.monotonic() - started < TIMEOUT + 5
    assert failing.stranger_seen == []  # the untrusted server never got the request


def test_the_page_is_in_the_childs_language(failing: Failing) -> None:
    with failing.agent.client() as client:
        answer = client.get(
            "https://nothing-here.invalid/", headers={"Accept-Language": "hi-IN,hi;q=0.9"}
        )
    assert answer.status_code == 502
    assert answer.headers["content-language"] == "hi"
    assert "यह रोक नहीं है" in answer.text  # "this is not a block"
    assert "इस साइट का नाम नहीं मिला" in answer.text  # the name was not found


def test_http2_clients_get_the_page_too(failing: Failing, tmp_path: Path) -> None:
    """curl offers h2 first (httpx offers http/1.1 first, which mitmproxy then picks)."""
    body = tmp_path / "page.html"
    result = subprocess.run(
        [
            "curl",
            "--silent",
            "--show-error",
            "--http2",
            "--max-time",
            "20",
            "--proxy",
            failing.agent.proxy_url,
            "--cacert",
            str(failing.agent.ca_file),
            "--output",
            str(body),
            "--write-out",
            "%{http_version} %{http_code}",
            f"https://127.0.0.1:{failing.closed}/",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == "2 502"
    page = body.read_text(encoding="utf-8")
    assert "did not accept the connection" in page
    assert "mitmproxy" not in page.lower()


def test_a_malformed_request_gets_abhayas_fixed_page(failing: Failing) -> None:
    host, port = failing.agent.agent.addresses[0]
    with socket.create_connection((host, port), 10) as sock:
        sock.sendall(b"NOT A REQUEST\r\n\r\n")
        answer = sock.makefile("rb").read(200_000)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"<title>Request not completed" in answer
    assert b"mitmproxy" not in answer.lower()


def test_a_site_that_answers_is_unaffected(failing: Failing, upstream: Upstream) -> None:
    with failing.agent.client() as client:
        answer = client.get(f"https://localhost:{upstream.port}/fine")
    assert answer.status_code == 200
    assert answer.json()["path"] == "/fine"


def test_the_timeout_follows_the_configured_setting(tmp_path: Path, upstream: Upstream) -> None:
    """A longer timeout waits longer: the page is not a fixed delay."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port = int(silent.getsockname()[1])
    agent = start_agent(
        tmp_path, upstream, allow_local_ports=frozenset({port}), upstream_timeout=3.0
    )
    try:
        with agent.client() as client:
            started = time.monotonic()
            answer = client.get(f"http://127.0.0.1:{port}/")
            waited = time.monotonic() - started
    finally:
        agent.stop()
        silent.close()
    assert answer.status_code == 504
    assert 3.0 <= waited < 8.0
