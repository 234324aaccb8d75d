"""Where the policy addon decrypts, on a real proxy (`[inspect]`, `filters.inspect`).

A connection passed through reaches the site end to end: a client that trusts only the
site's own CA gets the page, which it could not through an intercepting proxy.  One that is
decrypted is answered with the agent's certificate, so the client trusts the agent's CA."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.agent.api.conftest import ApiAgent, Clock, set_first_pin
from tests.agent.conftest import RunningAgent, Upstream, serve_https, start_agent
from tests.conftest import POLICY

# example.org has a path rule for the child here, so a plain allowed host with a name is
# localhost (the upstream's certificate names it); bank.example is under `passthrough`.
NEEDED = (
    POLICY.replace(
        'block = ["custom.example", "wiki.example/private"]',
        'block = ["custom.example", "example.org/private"]',
    )
    + '\n[inspect]\nmode = "needed"\n'
)
EVERYTHING = POLICY + '\n[inspect]\nmode = "everything"\n'


@pytest.fixture(scope="module")
def needed(tmp_path_factory: pytest.TempPathFactory, upstream: Upstream) -> Iterator[ApiAgent]:
    folder = tmp_path_factory.mktemp("needed")
    clock = Clock()
    agent = ApiAgent(start_agent(folder, upstream, clock=clock, policy=NEEDED), clock, folder)
    set_first_pin(agent)
    yield agent
    agent.running.stop()


def _origin_only(agent: RunningAgent, upstream: Upstream) -> httpx.Client:
    """A client through the proxy that trusts the origin's CA and not the agent's."""
    context = ssl.create_default_context(cafile=str(upstream.ca_file))
    return httpx.Client(proxy=agent.proxy_url, verify=context, timeout=20)


def test_a_plain_allowed_host_is_passed_through(needed: ApiAgent, upstream: Upstream) -> None:
    before = needed.connections()
    with _origin_only(needed.running, upstream) as client:
        response = client.get(f"https://localhost:{upstream.port}/page")
    assert (response.status_code, response.json()["path"]) == (200, "/page")
    with pytest.raises(httpx.ConnectError), needed.running.client() as client:
        client.get(f"https://localhost:{upstream.port}/page")  # the agent's CA is not used
    after = needed.connections()
    assert after["passed_through"] == before["passed_through"] + 2  # type: ignore[operator]
    assert after["inspected"] == before["inspected"]
    by_reason = after["by_reason"]
    assert isinstance(by_reason, dict)
    assert by_reason["not_needed"] >= 2


def test_a_search_engine_is_decrypted_and_safe_search_still_applies(
    needed: ApiAgent, upstream: Upstream
) -> None:
    before = needed.connections()
    with needed.running.client() as client:
        response = client.get("https://www.bing.com/search?q=weather&adlt=off")
    assert response.status_code == 200
    assert "adlt=strict" in response.json()["path"]
    after = needed.connections()
    assert after["inspected"] == before["inspected"] + 1  # type: ignore[operator]
    with pytest.raises(httpx.ConnectError), _origin_only(needed.running, upstream) as client:
        client.get("https://www.bing.com/search?q=weather")


def test_a_blocked_host_still_gets_the_warning_page(needed: ApiAgent) -> None:
    with needed.running.client() as client:
        response = client.get("https://adult.example/")
    assert response.status_code == 403
    assert "Abhaya" in response.text


def test_a_host_with_a_path_rule_is_decrypted_and_the_rule_applies(needed: ApiAgent) -> None:
    with needed.running.client() as client:
        assert client.get("https://example.org/private/notes").status_code == 403
        response = client.get("https://example.org/public")
    assert (response.status_code, response.json()["path"]) == (200, "/public")


def test_a_passed_through_connection_still_cannot_reach_a_local_port(
    needed: ApiAgent, upstream: Upstream
) -> None:
    """The destination check holds for connections the agent does not decrypt: only the
    upstream's port is allowed on this machine, not this second server's."""
    server, seen = serve_https(upstream.ca, ["localhost"])
    try:
        port = server.server_address[1]
        with pytest.raises(httpx.HTTPError), _origin_only(needed.running, upstream) as client:
            client.get(f"https://localhost:{port}/page")
        assert seen == []
    finally:
        server.shutdown()
        server.server_close()


def test_a_never_host_is_passed_through(needed: ApiAgent, upstream: Upstream) -> None:
    with _origin_only(needed.running, upstream) as client:
        assert client.get("https://bank.example/account").status_code == 200


def test_everything_mode_decrypts_a_plain_allowed_host(tmp_path: Path, upstream: Upstream) -> None:
    agent = start_agent(tmp_path, upstream, policy=EVERYTHING)
    try:
        with agent.client() as client:
            response = client.get(f"https://localhost:{upstream.port}/page")
        assert response.status_code == 200
        with pytest.raises(httpx.ConnectError), _origin_only(agent, upstream) as client:
            client.get(f"https://localhost:{upstream.port}/page")
        assert agent.agent.services.inspection["everything"] == 2
        assert agent.agent.services.inspection["not_needed"] == 0
    finally:
        agent.stop()
