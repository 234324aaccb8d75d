"""Access requests over the real API: they expire, and an approval covers the site or the host.

Checked through the real proxy: what the parent approved is what the child can open.
"""

from __future__ import annotations

from typing import Any

import pytest

from abhaya.client import contract
from tests.agent.api.conftest import ApiAgent
from tests.agent.api.test_alerts import ask


def _approve(agent: ApiAgent, auth: dict[str, str], ident: int, **body: object) -> Any:
    with agent.client() as api:
        return api.post(f"{contract.REQUESTS}/{ident}/approve", json=body, headers=auth)


def test_an_unanswered_request_expires_after_a_day(with_pin: ApiAgent) -> None:
    agent = with_pin
    ask(agent, "bet.example", "for a school project")
    with agent.client() as api:
        auth = agent.login(api)
    (pending,) = agent.access_requests(auth, "pending")
    assert set(pending) == set(contract.AccessRequestRecord.__required_keys__)
    assert pending["status"] == "pending" and pending["answer_by"] is not None

    agent.clock.advance(hours=24, seconds=1)
    with agent.client() as api:
        auth = agent.login(api)  # the session has ended meanwhile
    assert agent.access_requests(auth, "pending") == []
    (expired,) = agent.access_requests(auth, "expired")
    assert (expired["id"], expired["status"]) == (pending["id"], "expired")
    refused = _approve(agent, auth, pending["id"], minutes=30)
    assert refused.status_code == 409 and "expired" in refused.json()["error"]
    assert agent.status_of("https://bet.example/") == 403

    # Asking again renews the request, which a parent can then approve.
    ask(agent, "bet.example", "still for the project")
    (renewed,) = agent.access_requests(auth, "pending")
    assert _approve(agent, auth, renewed["id"], minutes=30).status_code == 200
    assert agent.status_of("https://bet.example/") != 403


def test_the_expiry_follows_the_policy(with_pin: ApiAgent) -> None:
    agent = with_pin
    with agent.client() as api:
        auth = agent.login(api)
        text = api.get(contract.POLICY, headers=auth).json()["text"]
        text += "\n[access]\nrequest_expiry_hours = 48\n"
        assert api.put(contract.POLICY, json={"text": text}, headers=auth).status_code == 200
    ask(agent, "bet.example", "for a school project")
    agent.clock.advance(hours=47)
    with agent.client() as api:
        auth = agent.login(api)
    (pending,) = agent.access_requests(auth, "pending")
    assert _approve(agent, auth, pending["id"], always=True).status_code == 200


def test_an_approval_covers_the_whole_site_by_default(with_pin: ApiAgent) -> None:
    agent = with_pin
    ask(agent, "www.bet.example", "homework")
    with agent.client() as api:
        auth = agent.login(api)
    (pending,) = agent.access_requests(auth, "pending")
    answer = _approve(agent, auth, pending["id"], minutes=60)
    assert answer.status_code == 200, answer.text
    record = answer.json()
    assert (record["scope"], record["covers"], record["domain"]) == (
        "site",
        "bet.example",
        "www.bet.example",
    )
    for url in ("https://www.bet.example/", "https://bet.example/", "https://sports.bet.example/"):
        assert agent.status_of(url) != 403, url
    assert agent.status_of("https://casino.example/") == 403
    agent.clock.advance(minutes=61)
    assert agent.status_of("https://sports.bet.example/") == 403


def test_a_parent_can_approve_only_the_host(with_pin: ApiAgent) -> None:
    agent = with_pin
    ask(agent, "www.bet.example", "homework")
    with agent.client() as api:
        auth = agent.login(api)
    (pending,) = agent.access_requests(auth, "pending")
    answer = _approve(agent, auth, pending["id"], minutes=60, scope="host")
    assert answer.status_code == 200, answer.text
    assert (answer.json()["scope"], answer.json()["covers"]) == ("host", "www.bet.example")
    assert agent.status_of("https://www.bet.example/") != 403
    assert agent.status_of("https://bet.example/") == 403
    assert agent.status_of("https://sports.bet.example/") == 403


@pytest.mark.parametrize("scope", ["domain", "", 1, None])
def test_an_unknown_scope_is_refused(with_pin: ApiAgent, scope: object) -> None:
    agent = with_pin
    ask(agent, "bet.example", "homework")
    with agent.client() as api:
        auth = agent.login(api)
    (pending,) = agent.access_requests(auth, "pending")
    answer = _approve(agent, auth, pending["id"], minutes=5, scope=scope)
    assert answer.status_code == 422 and answer.json()["field"] == "scope"
    assert agent.access_requests(auth, "pending")[0]["id"] == pending["id"]


def _end(agent: ApiAgent, auth: dict[str, str], **body: object) -> Any:
    with agent.client() as api:
        return api.post(contract.APPROVALS_END, json=body, headers=auth)


def test_ending_a_sites_approvals_blocks_it_at_once_in_the_proxy(with_pin: ApiAgent) -> None:
    agent = with_pin
    ask(agent, "www.bet.example", "homework")
    with agent.client() as api:
        auth = agent.login(api)
    (pending,) = agent.access_requests(auth, "pending")
    child = pending["profile"]
    assert _approve(agent, auth, pending["id"], always=True).status_code == 200
    assert agent.status_of("https://sports.bet.example/") != 403

    other = _end(agent, auth, site="bet.example", profiles=[f"{child}-not"])
    assert other.status_code == 200, other.text
    assert other.json() == {"site": "bet.example", "ended": []}
    assert agent.status_of("https://sports.bet.example/") != 403  # only that child's end

    answer = _end(agent, auth, site="BET.example.", profiles=[child])
    assert answer.status_code == 200, answer.text
    record = answer.json()
    assert record["site"] == "bet.example"
    (ended,) = record["ended"]
    assert set(ended) == set(contract.AccessRequestRecord.__required_keys__)
    assert (ended["id"], ended["status"]) == (pending["id"], "approved")
    assert ended["expires_at"] == agent.clock().isoformat()
    for url in ("https://www.bet.example/", "https://sports.bet.example/"):
        assert agent.status_of(url) == 403, url
    assert _end(agent, auth, site="bet.example").json()["ended"] == []  # nothing runs now

    agent.running.agent.services.events.flush()
    with agent.client() as api:
        events = api.get(contract.EVENTS, params={"kind": "access_decision"}, headers=auth).json()[
            "events"
        ]
    (recorded,) = [event for event in events if event["action"] == "ended"]
    assert (recorded["profile"], recorded["domain"]) == (child, "www.bet.example")
    assert "a parent blocked bet.example" in recorded["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "site"),
        ({"site": ""}, "site"),
        ({"site": 7}, "site"),
        ({"site": "a..b"}, "site"),
        ({"site": "x" * 201}, "site"),
        ({"site": "bet.example", "profiles": []}, "profiles"),
        ({"site": "bet.example", "profiles": "child"}, "profiles"),
        ({"site": "bet.example", "profiles": [1]}, "profiles"),
        ({"site": "bet.example", "when": "now"}, "when"),
    ],
)
def test_ending_approvals_refuses_bad_input(
    shared: ApiAgent, body: dict[str, object], field: str
) -> None:
    with shared.client() as api:
        auth = shared.login(api)
        answer = api.post(contract.APPROVALS_END, json=body, headers=auth)
        assert answer.status_code == 422 and answer.json()["field"] == field, answer.text
        assert api.post(contract.APPROVALS_END, json={"site": "bet.example"}).status_code == 401
