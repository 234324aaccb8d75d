"""The policy addon on a real proxy: safe search, Host-header fronting, pass-through TLS,
"continue anyway", and the query model's judgements (the real model, as the agent loads it)."""

from __future__ import annotations

import contextlib
import html
import re
import ssl
from pathlib import Path

import httpx

from abhaya.agent.store import EventKind
from abhaya.agent.store.events import Event
from abhaya.agent.store.queries import EventFilter, events_page
from tests.agent.conftest import RunningAgent, Upstream, start_agent
from tests.conftest import POLICY


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


def _verdict_events(agent: RunningAgent, text: str) -> list[Event]:
    assert agent.agent.services.events.flush(20)
    with contextlib.closing(agent.agent.store.connect(read_only=True)) as conn:
        page = events_page(conn, EventFilter(kinds=(EventKind.VERDICT,), text=text), limit=50)
    return [item.event for item in page.events]


def test_a_search_only_the_query_model_recognises_is_blocked_and_recorded(
    running: RunningAgent,
) -> None:
    """No keyword or rule names these words: the on-device model's second opinion decides."""
    with running.client() as client:
        response = client.get("https://www.bing.com/search?q=youngsters+without+clothing+pictures")
    assert response.status_code == 403
    assert "Warning: sexual images of children are illegal" in response.text
    assert "youngsters" not in response.text  # the query is never shown back
    (event,) = [e for e in _verdict_events(running, "www.bing.com") if e.reason == "model"]
    assert (event.category, event.action) == ("csam", "block")
    assert re.fullmatch(r"model:csam=0\.\d\d|model:csam=1\.00", event.rule)
    assert "youngsters" not in event.url  # nor stored (keep_query is off)


def test_a_threshold_in_the_policy_turns_any_search_into_a_model_judgement(
    tmp_path: Path, upstream: Upstream
) -> None:
    """The positive path by configuration: a threshold no score is under makes an innocent
    search a self-harm judgement, which shows the support page."""
    policy = POLICY + "\n[search_model]\nthresholds = { self_harm = 0.000001 }\n"
    agent = start_agent(tmp_path, upstream, policy=policy)
    try:
        with agent.client() as client:
            judged = client.get("https://duckduckgo.com/?q=weather+in+pune+tomorrow")
            not_a_search = client.get("https://example.org/weather")
        assert "You are not alone" in judged.text and "14416" in judged.text
        assert not_a_search.status_code == 200
        (event,) = _verdict_events(agent, "duckduckgo.com")
        assert (event.category, event.reason) == ("self_harm", "model")
    finally:
        agent.stop()
