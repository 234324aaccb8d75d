"""The policy addon on a real proxy: safe search, Host-header fronting, pass-through TLS,
"continue anyway", the query model's judgements (the real model, as the agent loads it), and
searches sent in a request body (YouTube's in-page search)."""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import html
import json
import re
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

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


# A search typed on an open YouTube page: the page's script posts it as JSON.
YOUTUBE_SEARCH = "https://www.youtube.com/youtubei/v1/search?prettyPrint=false"


def _youtube_body(query: str, padding: int = 0) -> bytes:
    context = {"client": {"clientName": "WEB", "clientVersion": "2.20261101.00.00"}}
    fields: dict[str, object] = {"context": context, "query": query}
    if padding:
        fields["padding"] = "x" * padding
    return json.dumps(fields).encode()


def _post_search(
    agent: RunningAgent, upstream: Upstream, body: bytes | Iterator[bytes], **headers: str
) -> tuple[httpx.Response, list[str], list[Event]]:
    """POST a search body; the answer, the hosts the upstream saw and the new YouTube events."""
    events_before = len(_verdict_events(agent, "www.youtube.com"))
    seen_before = len(upstream.hosts_seen)
    with agent.client() as client:
        response = client.post(
            YOUTUBE_SEARCH,
            content=body,
            headers={"Content-Type": "application/json", **headers},
        )
    events = _verdict_events(agent, "www.youtube.com")
    # events_page lists the newest first
    return response, upstream.hosts_seen[seen_before:], events[: len(events) - events_before]


def test_a_csam_search_in_a_youtube_body_is_blocked_before_the_site(
    running: RunningAgent, upstream: Upstream
) -> None:
    response, seen, events = _post_search(running, upstream, _youtube_body("zanzibar quokka"))
    assert response.status_code == 403
    assert "Warning: sexual images of children are illegal" in response.text
    assert "quokka" not in response.text  # the query is never shown back
    assert seen == []  # the search never reached YouTube
    (event,) = events  # recorded once, with the verdict made on the body
    assert (event.category, event.action, event.reason) == ("csam", "block", "keyword")
    assert event.rule == "keyword:zanzibar quokka"
    assert event.url == "https://www.youtube.com/youtubei/v1/search"  # no query kept


def test_an_innocent_youtube_body_search_arrives_unchanged(
    running: RunningAgent, upstream: Upstream
) -> None:
    body = _youtube_body("rain songs for kids")
    response, seen, events = _post_search(running, upstream, body)
    assert response.status_code == 200
    echoed = response.json()
    assert echoed["path"] == "/youtubei/v1/search?prettyPrint=false"
    assert (echoed["received"], echoed["sha256"]) == (len(body), hashlib.sha256(body).hexdigest())
    headers = {name.lower(): value for name, value in echoed["headers"].items()}
    assert headers["youtube-restrict"] == "Strict"  # the address's safe search still applies
    assert seen == ["www.youtube.com"]
    (event,) = events  # the safe-search rewrite, recorded once
    assert (event.action, event.reason) == ("rewrite", "safe_search")


def test_a_self_harm_body_search_is_judged_by_the_query_model(
    running: RunningAgent, upstream: Upstream
) -> None:
    """No keyword or rule names these words: the model's second opinion decides, as for a URL."""
    response, seen, events = _post_search(
        running, upstream, _youtube_body("i no longer want to exist")
    )
    assert response.status_code == 403
    assert "You are not alone" in response.text
    assert seen == []
    (event,) = events
    assert (event.category, event.action, event.reason) == ("self_harm", "warn", "model")


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"query=zanzibar+quokka", {}),  # not JSON: no search the rule knows
        (json.dumps({"context": {}, "continuation": "4qmFsgKr"}).encode(), {}),  # next page
    ],
)
def test_a_body_without_a_search_passes_on_its_address(
    running: RunningAgent, upstream: Upstream, body: bytes, headers: dict[str, str]
) -> None:
    response, seen, _ = _post_search(running, upstream, body, **headers)
    assert response.status_code == 200
    assert response.json()["sha256"] == hashlib.sha256(body).hexdigest()
    assert seen == ["www.youtube.com"]


def test_a_compressed_body_search_is_read(running: RunningAgent, upstream: Upstream) -> None:
    body = gzip.compress(_youtube_body("zanzibar quokka"))
    response, seen, events = _post_search(running, upstream, body, **{"Content-Encoding": "gzip"})
    assert response.status_code == 403
    assert seen == []
    assert [(e.category, e.reason) for e in events] == [("csam", "keyword")]


def _chunks(body: bytes) -> Iterator[bytes]:
    yield body[:10]
    yield body[10:]


@pytest.mark.parametrize(
    ("body", "headers", "reason", "detail"),
    [
        # past the proxy's streaming threshold (1 MiB): it would be sent on unread
        (
            _youtube_body("zanzibar quokka", padding=1_200_000),
            {},
            "limits",
            "larger than the proxy holds back",
        ),
        # held back, but more than a search box sends
        (
            _youtube_body("rain", padding=300_000),
            {},
            "limits",
            "larger than 256 kB",
        ),
        # no declared length: mitmproxy would start streaming it once it passed 1 MiB
        (_chunks(_youtube_body("rain")), {}, "limits", "does not declare its length"),
        # an encoding that cannot be inflated within bounds here
        (b"\x8b\x08\x80rain", {"Content-Encoding": "br"}, "error", "encoded as 'br'"),
        (b"not gzip", {"Content-Encoding": "gzip"}, "error", "not valid gzip"),
    ],
)
def test_a_body_search_that_cannot_be_read_is_blocked(
    running: RunningAgent,
    upstream: Upstream,
    body: bytes | Iterator[bytes],
    headers: dict[str, str],
    reason: str,
    detail: str,
) -> None:
    response, seen, events = _post_search(running, upstream, body, **headers)
    assert response.status_code == 403
    assert seen == []
    (event,) = events
    assert (event.action, event.reason, event.rule) == ("block", reason, "body:youtube")
    assert detail in event.detail


def test_a_get_to_the_search_path_is_decided_by_its_address(
    running: RunningAgent, upstream: Upstream
) -> None:
    with running.client() as client:
        response = client.get(YOUTUBE_SEARCH + "&query=rain")
    assert response.status_code == 200
    assert response.json()["path"] == "/youtubei/v1/search?prettyPrint=false&query=rain"


# Tests with an agent of their own come last: the module's `running` agent is not used after
# another agent has run in this process (mitmproxy keeps the current master in a global).


def test_a_pause_lets_a_body_search_through_but_never_csam(
    tmp_path: Path, upstream: Upstream
) -> None:
    """The body's verdict gets the same overrides as the address's."""
    agent = start_agent(tmp_path, upstream)
    try:
        services = agent.agent.services
        services.pause.pause(services.clock() + dt.timedelta(minutes=30))
        gambling, seen, events = _post_search(agent, upstream, _youtube_body("online casino"))
        assert gambling.status_code == 200 and seen == ["www.youtube.com"]
        csam, seen, _ = _post_search(agent, upstream, _youtube_body("zanzibar quokka"))
        assert csam.status_code == 403 and seen == []
    finally:
        agent.stop()


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
