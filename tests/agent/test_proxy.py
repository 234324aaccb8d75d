"""The real proxy on loopback, with real clients (httpx and curl) trusting the agent's CA."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.agent.conftest import RunningAgent, Upstream


def test_allowed_page_is_fetched_from_upstream(running: RunningAgent, upstream: Upstream) -> None:
    with running.client() as client:
        response = client.get(f"https://localhost:{upstream.port}/hello?x=1")
    assert response.status_code == 200
    assert response.json()["path"] == "/hello?x=1"


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


def test_large_uploads_to_an_allowed_site_are_streamed_through(
    running: RunningAgent, upstream: Upstream
) -> None:
    with running.client() as client:
        response = client.post(
            f"https://localhost:{upstream.port}/upload", content=b"x" * (3 * 1024 * 1024)
        )
    assert response.status_code == 200
    assert response.json()["received"] == 3 * 1024 * 1024


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
