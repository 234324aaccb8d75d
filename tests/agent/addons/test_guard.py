"""The control API cannot be reached through the proxy: the guard addon answers 403."""

from __future__ import annotations

import contextlib
import socket

import httpx
import pytest

from abhaya.agent.addons.guard import is_this_machine
from abhaya.agent.store.queries import EventFilter, events_page
from tests.agent.conftest import RunningAgent, Upstream


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("0.0.0.0", True),
        ("::", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("api.localhost", True),
        ("example.org", False),
        ("192.0.2.1", False),
        ("localhost.example", False),
        ("fe80::1%eth0", False),
    ],
)
def test_this_machine(host: str, local: bool) -> None:
    assert is_this_machine(host) is local


def _api_port(running: RunningAgent) -> int:
    address = running.agent.api.address
    assert address is not None
    return address.port


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.0.0.2", "0.0.0.0"])
def test_api_requests_through_the_proxy_get_403(running: RunningAgent, host: str) -> None:
    port = _api_port(running)
    with running.client() as proxied:
        page = proxied.get(f"http://{host}:{port}/v1/pin")
        login = proxied.post(f"http://{host}:{port}/v1/login", json={"pin": "2468"})
    for answer in (page, login):
        assert answer.status_code == 403
        assert answer.headers["Content-Type"].startswith("text/html")
        assert "cannot be opened through Abhaya" in answer.text
        assert '"set"' not in answer.text


@pytest.mark.parametrize("host", ["[::1]", "[::ffff:127.0.0.1]", "LocalHost."])
def test_raw_requests_for_the_api_through_the_proxy_get_403(
    running: RunningAgent, host: str
) -> None:
    """Written by hand: httpx drops the brackets of IPv6 hosts in proxy requests."""
    target = f"{host}:{_api_port(running)}"
    request = f"GET http://{target}/v1/pin HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n"
    proxy_host, proxy_port = running.agent.addresses[0]
    with socket.create_connection((proxy_host, proxy_port), 10) as sock:
        sock.sendall(request.encode())
        answer = sock.makefile("rb")
        status_line = answer.readline()
        rest = answer.read(200_000)
    assert status_line.split()[1] == b"403"
    assert b"cannot be opened through Abhaya" in rest


def test_a_tunnel_to_the_api_is_refused(running: RunningAgent) -> None:
    with running.client() as proxied, pytest.raises(httpx.ProxyError, match="403"):
        proxied.get(f"https://127.0.0.1:{_api_port(running)}/v1/pin")


def test_the_api_answers_directly_and_other_local_ports_pass(
    running: RunningAgent, upstream: Upstream
) -> None:
    with httpx.Client(trust_env=False, timeout=20) as direct:
        assert direct.get(f"http://127.0.0.1:{_api_port(running)}/v1/pin").status_code == 200
    with running.client() as proxied:
        assert proxied.get(f"https://localhost:{upstream.port}/").status_code == 200


def test_refusals_are_recorded(running: RunningAgent) -> None:
    with running.client() as proxied:
        proxied.get(f"http://127.0.0.1:{_api_port(running)}/v1/status")
    assert running.agent.services.events.flush(20)
    with contextlib.closing(running.agent.store.connect(read_only=True)) as conn:
        page = events_page(conn, EventFilter(reasons=("local_address",)))
    assert page.events
    assert page.events[0].event.action == "block"
