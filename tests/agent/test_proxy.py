"""The real proxy on loopback, with real clients (httpx and curl) trusting the agent's CA."""

from __future__ import annotations

import contextlib
import html
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from abhaya.agent.store import EventKind
from abhaya.agent.store.queries import EventFilter, events_page
from tests.agent.conftest import RunningAgent, Upstream


def test_allowed_page_is_fetched_from_upstream(running: RunningAgent, upstream: Upstream) -> None:
    with running.client() as client:
        response = client.get(f"https://localhost:{upstream.port}/hello?x=1")
    assert response.status_code == 200
    assert response.json()["path"] == "/hello?x=1"


def test_blocked_https_domain_gets_a_warning_page_without_contacting_it(
    running: RunningAgent, upstream: Upstream
) -> None:
    with running.client() as client:
        response = client.get("https://www.adult.example/video")
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text and 'lang="en"' in response.text
    assert not [host for host in upstream.hosts_seen if "adult.example" in host]


def test_keyword_search_gets_a_warning_page(running: RunningAgent) -> None:
    with running.client() as client:
        response = client.get("https://www.bing.com/search?q=online+casino+tips")
    assert response.status_code == 403
    assert 'id="ask-parent"' in response.text  # gambling allows asking a parent


def test_hostile_query_is_escaped_on_the_page(running: RunningAgent) -> None:
    with running.client() as client:
        response = client.get('https://www.bing.com/search?q=online+casino+"><script>x()</script>')
    assert response.status_code == 403
    assert "<script>x()" not in response.text


def test_csam_page_has_the_law_and_help_lines(running: RunningAgent) -> None:
    with running.client() as client:
        response = client.get("https://csam-test.invalid/")
    assert response.status_code == 403
    for text in ("67B", "POCSO", "1930", "cybercrime.gov.in", "1098"):
        assert text in response.text


def test_page_language_follows_accept_language(running: RunningAgent) -> None:
    with running.client(headers={"Accept-Language": "hi-IN,hi;q=0.9,en;q=0.5"}) as client:
        response = client.get("https://csam-test.invalid/")
    assert 'lang="hi"' in response.text
    assert any("\u0900" <= char <= "\u097f" for char in response.text)


def test_safe_search_parameter_is_enforced(running: RunningAgent) -> None:
    with running.client() as client:
        response = client.get("https://www.bing.com/search?q=weather&adlt=off")
    assert response.status_code == 200
    path = response.json()["path"]
    assert "adlt=strict" in path and "adlt=off" not in path and "q=weather" in path


def test_youtube_restrict_header_is_set(running: RunningAgent) -> None:
    with running.client() as client:
        response = client.get("https://www.youtube.com/watch?v=abc")
    headers = {name.lower(): value for name, value in response.json()["headers"].items()}
    assert headers["youtube-restrict"] == "Strict"


def test_host_header_cannot_front_for_a_blocked_site(
    running: RunningAgent, upstream: Upstream
) -> None:
    with running.client() as client:
        response = client.get(
            f"https://localhost:{upstream.port}/", headers={"Host": "adult.example"}
        )
    assert response.status_code == 403


def test_passthrough_domain_is_not_intercepted(running: RunningAgent, upstream: Upstream) -> None:
    # Trusting only the upstream's own CA: this works only if the agent did not intercept.
    context = ssl.create_default_context(cafile=str(upstream.ca_file))
    with httpx.Client(proxy=running.proxy_url, verify=context, timeout=20) as client:
        response = client.get("https://bank.example/account")
    assert response.status_code == 200
    assert response.json()["path"] == "/account"


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


def test_concurrent_clients_all_get_answers(running: RunningAgent, upstream: Upstream) -> None:
    results: list[int] = []

    def fetch(index: int) -> None:
        with running.client() as client:
            url = "https://adult.example/" if index % 2 else f"https://localhost:{upstream.port}/"
            results.append(client.get(url).status_code)

    threads = [threading.Thread(target=fetch, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(results) == [200] * 8 + [403] * 8


@pytest.mark.parametrize(
    ("url", "status"),
    [("https://gore.example/", "403"), ("https://localhost:{port}/curl", "200")],
)
def test_curl_through_the_proxy(
    running: RunningAgent, upstream: Upstream, url: str, status: str
) -> None:
    result = subprocess.run(
        [
            "curl",
            "--silent",
            "--show-error",
            "--max-time",
            "20",
            "--proxy",
            running.proxy_url,
            "--cacert",
            str(running.ca_file),
            "--output",
            "/dev/null",
            "--write-out",
            "%{http_code}",
            url.format(port=upstream.port),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == status


def test_continue_anyway_on_a_warn_page(running: RunningAgent) -> None:
    with running.client() as client:
        page = client.get("https://games.example/play?level=2")
        assert page.status_code == 403
        link = re.search(r'id="continue" href="([^"]+)"', page.text)
        assert link is not None
        forged = client.get("https://games.example/play?abhaya-continue=1.00")
        assert forged.status_code == 403
        followed = client.get("https://games.example" + html.unescape(link.group(1)))
        assert followed.status_code == 200
        assert followed.json()["path"] == "/play?level=2"  # the token never reaches the site
        assert client.get("https://games.example/next").status_code == 200


def test_block_pages_offer_no_way_on(running: RunningAgent) -> None:
    with running.client() as client:
        for url in ("https://adult.example/", "https://csam-test.invalid/"):
            assert 'id="continue"' not in client.get(url).text


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


@pytest.mark.parametrize("size", [10_000, 3 * 1024 * 1024])
def test_uploads_to_a_blocked_site_never_reach_it(
    running: RunningAgent, upstream: Upstream, size: int
) -> None:
    """Bodies above the streaming threshold are streamed for allowed sites; for a blocked one
    the decision comes first, so nothing is forwarded."""
    before = len(upstream.hosts_seen)
    with running.client() as client:
        response = client.post("https://adult.example/upload", content=b"x" * size)
    assert response.status_code == 403
    assert upstream.hosts_seen[before:] == []


def test_large_uploads_to_an_allowed_site_are_streamed_through(
    running: RunningAgent, upstream: Upstream
) -> None:
    with running.client() as client:
        response = client.post(
            f"https://localhost:{upstream.port}/upload", content=b"x" * (3 * 1024 * 1024)
        )
    assert response.status_code == 200
    assert response.json()["received"] == 3 * 1024 * 1024


def test_verdicts_become_events_without_their_query(running: RunningAgent) -> None:
    with running.client() as client:
        client.get("https://www.adult.example/video?who=private-marker")
        client.get("https://example.org/nothing-to-see")
    assert running.agent.services.events.flush(20)
    with contextlib.closing(running.agent.store.connect(read_only=True)) as conn:
        page = events_page(conn, EventFilter(text="adult.example"), limit=50)
        allowed = events_page(conn, EventFilter(text="nothing-to-see"), limit=50)
    stored = [item.event for item in page.events if item.event.url.endswith("/video")]
    assert stored, "the blocked request was not recorded"
    event = stored[0]
    assert (event.kind, event.category, event.action) == (EventKind.VERDICT, "adult", "block")
    assert (event.domain, event.rule, event.profile) == (
        "www.adult.example",
        "adult.example",
        "child",
    )
    assert event.url == "https://www.adult.example/video"
    assert allowed.events == ()  # a plain allow is not an event


def test_a_clean_stop_with_open_connections_prints_no_traceback(tmp_path: Path) -> None:
    """SIGINT while clients hold connections open: the agent stops, exit 0, no traceback."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "abhaya.agent.cli",
            "run",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            str(tmp_path / "data"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    banner = process.stdout.readline()
    port = int(banner.rsplit(":", 1)[1])
    with (
        socket.create_connection(("127.0.0.1", port)) as half_request,
        socket.create_connection(("127.0.0.1", port)) as tunnel,
    ):
        half_request.sendall(b"GET http://example.org/ HTTP/1.1\r\nHost: exa")
        tunnel.sendall(b"CONNECT example.org:443 HTTP/1.1\r\n\r\n")
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "abhaya: stopped" in out
    assert "Traceback" not in err and "CancelledError" not in err
