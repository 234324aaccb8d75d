"""The policy addon on a real proxy: safe search, Host-header fronting, pass-through TLS and
"continue anyway"."""

from __future__ import annotations

import html
import re
import ssl

import httpx

from tests.agent.conftest import RunningAgent, Upstream


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
