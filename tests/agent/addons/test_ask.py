"""Ask a parent, end to end: the form on the real warning page, the request in the real store,
the parent's decision over the real API, and the proxy letting the domain through (or not)."""

from __future__ import annotations

import contextlib

import httpx
import pytest

from abhaya.agent.addons.ask import ASK_PATH
from abhaya.agent.store import EventKind
from abhaya.agent.store.queries import EventFilter, events_page
from tests.agent.api.conftest import ApiAgent, browser, form_action
from tests.agent.conftest import Upstream

BET = "https://bet.example/games/today"
CASINO = "https://casino.example/"


def _get(agent: ApiAgent, url: str) -> httpx.Response:
    with agent.running.client() as client:
        return client.get(url)


@pytest.mark.parametrize(
    ("url", "form"),
    [
        (BET, True),  # gambling: ask_parent = true
        ("https://adult.example/", False),  # adult: no ask_parent
        ("https://csam-test.invalid/", False),  # csam: never
        ("https://www.bing.com/search?q=zanzibar+quokka", False),
    ],
)
def test_the_form_is_offered_only_where_the_category_allows_it(
    api_agent: ApiAgent, url: str, form: bool
) -> None:
    page = _get(api_agent, url)
    assert page.status_code == 403
    assert ('id="ask-form"' in page.text) is form
    if form:
        action = form_action(page.text)
        assert action is not None and action.startswith(f"{ASK_PATH}?t=")
        assert 'value="/games/today"' in page.text


def test_ask_approve_expire_and_deny(with_pin: ApiAgent) -> None:
    agent = with_pin
    with agent.client() as api:
        auth = agent.login(api)
    reason = 'For my <b>school</b> project "maths"'
    first_page = _get(agent, BET)  # e.g. a second tab, opened before the request was sent
    sent = agent.ask("bet.example", reason=reason, page="/games/today?x=1")
    assert sent.status_code == 200
    assert 'data-state="sent"' in sent.text and "<b>school" not in sent.text
    (pending,) = agent.access_requests(auth, "pending")
    assert (pending["domain"], pending["url"], pending["reason"]) == (
        "bet.example",
        "https://bet.example/games/today",
        reason,
    )
    page = _get(agent, BET)
    assert page.status_code == 403
    assert 'data-state="pending"' in page.text and 'id="ask-form"' not in page.text
    # Asking again (from the older tab) refreshes the same request instead of adding one.
    action = form_action(first_page.text)
    assert action is not None
    with agent.running.client() as client:
        again = client.post(
            f"https://bet.example{action}",
            data={"reason": "again", "page": "/"},
            headers=browser("bet.example"),
        )
    assert again.status_code == 200
    assert [r["id"] for r in agent.access_requests(auth, "pending")] == [pending["id"]]

    with agent.client() as api:
        answer = api.post(
            f"/v1/requests/{pending['id']}/approve", json={"minutes": 10}, headers=auth
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "approved"
        again = api.post(
            f"/v1/requests/{pending['id']}/approve", json={"minutes": 10}, headers=auth
        )
        assert again.status_code == 409
    assert _get(agent, BET).status_code == 200
    assert _get(agent, "https://csam-test.invalid/").status_code == 403
    agent.clock.advance(minutes=11)
    expired = _get(agent, BET)
    assert expired.status_code == 403 and 'id="ask-form"' in expired.text

    auth = agent.login(agent.client())  # sessions end while the clock moves
    assert agent.ask("casino.example", reason="homework", page="/").status_code == 200
    (second,) = agent.access_requests(auth, "pending")
    with agent.client() as api:
        assert api.post(f"/v1/requests/{second['id']}/deny", headers=auth).status_code == 200
    denied = _get(agent, CASINO)
    assert denied.status_code == 403 and 'data-state="denied"' in denied.text
    assert [r["id"] for r in agent.access_requests(auth, "denied")] == [second["id"]]

    agent.running.agent.services.events.flush()
    with contextlib.closing(agent.running.agent.store.connect(read_only=True)) as conn:
        kinds = (EventKind.ACCESS_REQUEST, EventKind.ACCESS_DECISION)
        events = events_page(conn, EventFilter(kinds=kinds), limit=50).events
    assert sorted(str(e.event.kind) for e in events) == [
        "access_decision",
        "access_decision",
        "access_request",
        "access_request",
        "access_request",
    ]
    assert all(reason not in e.event.detail for e in events)  # the child's text stays in its table


def test_approve_always_survives_the_clock(with_pin: ApiAgent) -> None:
    agent = with_pin
    assert agent.ask("bet.example", reason="club", page="/").status_code == 200
    with agent.client() as api:
        auth = agent.login(api)
        (pending,) = agent.access_requests(auth, "pending")
        answer = api.post(
            f"/v1/requests/{pending['id']}/approve", json={"always": True}, headers=auth
        )
    assert answer.status_code == 200 and answer.json()["expires_at"] is None
    agent.clock.advance(days=30)
    assert _get(agent, BET).status_code == 200


@pytest.mark.parametrize(
    ("host", "form", "status"),
    [
        ("bet.example", {"page": "/"}, 400),  # no reason
        ("bet.example", {"reason": "   ", "page": "/"}, 400),
        ("bet.example", {"reason": "x" * 501, "page": "/"}, 413),
        ("bet.example", {"reason": "x" * 9000, "page": "/"}, 413),
        ("bet.example", {"reason": "why"}, 400),  # no page
        ("bet.example", {"reason": "why", "page": "//evil.example/"}, 400),
        ("adult.example", {"reason": "why", "page": "/"}, 403),  # category does not allow it
        ("csam-test.invalid", {"reason": "why", "page": "/"}, 403),  # never for csam
        ("example.org", {"reason": "why", "page": "/"}, 403),  # not stopped at all
    ],
)
def test_hostile_forms_get_clear_errors(
    with_pin: ApiAgent, host: str, form: dict[str, str], status: int
) -> None:
    assert with_pin.ask(host, **form).status_code == status
    with with_pin.client() as api:
        auth = with_pin.login(api)
        assert api.get("/v1/status", headers=auth).status_code == 200
    assert with_pin.access_requests(auth, "pending") == []


def test_get_on_the_ask_path_is_refused_without_contacting_the_server(
    api_agent: ApiAgent, upstream: Upstream
) -> None:
    seen = len(upstream.hosts_seen)
    page = _get(api_agent, f"https://example.org{ASK_PATH}")
    assert upstream.hosts_seen[seen:] == []
    assert page.status_code == 405
    assert "<html" in page.text


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/v1/requests/999999/approve", {"minutes": 5}, 404),
        ("/v1/requests/999999/deny", None, 404),
        ("/v1/requests/abc/approve", {"minutes": 5}, 404),
        ("/v1/requests/1/close", {}, 404),
        ("/v1/requests/1/approve", {"minutes": "5"}, 422),
        ("/v1/requests/1/approve", {"minutes": 0}, 422),
        ("/v1/requests/1/approve", {"always": "yes"}, 422),
        ("/v1/requests/1/approve", {"always": True, "minutes": 5}, 422),
        ("/v1/requests/1/approve", {}, 422),
        ("/v1/requests/1/approve", {"minutes": 5, "note": "x"}, 422),
    ],
)
def test_bad_decisions_get_clear_errors(
    shared: ApiAgent, path: str, body: dict[str, object] | None, status: int
) -> None:
    with shared.client() as api:
        auth = shared.login(api)
        answer = api.post(path, json=body, headers=auth)
        assert answer.status_code == status, answer.text
        assert api.post(path, json=body).status_code == 401
        assert api.get("/v1/requests", params={"status": "bogus"}, headers=auth).status_code == 422
        assert api.get("/v1/status", headers=auth).status_code == 200


@pytest.mark.parametrize("token", ["", "1.00", "forged"])
def test_a_form_posted_without_the_pages_token_is_refused(with_pin: ApiAgent, token: str) -> None:
    """Another site cannot post the form for the child: the token comes from the page."""
    with with_pin.running.client() as client:
        answer = client.post(
            f"https://bet.example{ASK_PATH}?t={token}",
            data={"reason": "r", "page": "/"},
            headers=browser("bet.example"),
        )
    assert answer.status_code == 403
    with with_pin.client() as api:
        auth = with_pin.login(api)
    assert with_pin.access_requests(auth, "pending") == []


def _form_of(agent: ApiAgent, url: str) -> str:
    """The form action on the warning page at `url` (a path with the page's token)."""
    with agent.running.client() as client:
        action = form_action(client.get(url).text)
    assert action is not None
    return action


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://bet.example"},  # the same host, another scheme
        {"Sec-Fetch-Site": "cross-site"},
        {},  # a browser always says where a form came from; anything else is refused
    ],
)
def test_a_form_from_another_origin_is_refused(with_pin: ApiAgent, headers: dict[str, str]) -> None:
    action = _form_of(with_pin, BET)
    with with_pin.running.client() as client:
        answer = client.post(
            f"https://bet.example{action}", data={"reason": "r", "page": "/"}, headers=headers
        )
    assert answer.status_code == 403
    with with_pin.client() as api:
        auth = with_pin.login(api)
    assert with_pin.access_requests(auth, "pending") == []


def test_a_form_marked_same_origin_without_an_origin_is_accepted(with_pin: ApiAgent) -> None:
    action = _form_of(with_pin, BET)
    with with_pin.running.client() as client:
        answer = client.post(
            f"https://bet.example{action}",
            data={"reason": "r", "page": "/"},
            headers={"Sec-Fetch-Site": "same-origin"},
        )
    assert answer.status_code == 200


def test_a_token_is_good_for_one_request(with_pin: ApiAgent) -> None:
    action = _form_of(with_pin, BET)
    with with_pin.running.client() as client:
        url, headers = f"https://bet.example{action}", browser("bet.example")
        first = client.post(url, data={"reason": "one", "page": "/"}, headers=headers)
        second = client.post(url, data={"reason": "two", "page": "/"}, headers=headers)
    assert (first.status_code, second.status_code) == (200, 403)
    with with_pin.client() as api:
        auth = with_pin.login(api)
    (pending,) = with_pin.access_requests(auth, "pending")
    assert pending["reason"] == "one"


def test_a_token_from_an_https_page_is_refused_over_http(with_pin: ApiAgent) -> None:
    action = _form_of(with_pin, BET)
    with with_pin.running.client() as client:
        answer = client.post(
            f"http://bet.example{action}",
            data={"reason": "r", "page": "/"},
            headers=browser("bet.example", "http"),
        )
    assert answer.status_code == 403
    with with_pin.client() as api:
        auth = with_pin.login(api)
    assert with_pin.access_requests(auth, "pending") == []


def test_a_chunked_form_is_refused_unread(with_pin: ApiAgent) -> None:
    action = _form_of(with_pin, BET)
    with with_pin.running.client() as client:
        answer = client.post(
            f"https://bet.example{action}",
            content=iter([b"reason=r&", b"page=/"]),
            headers={
                **browser("bet.example"),
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
    assert answer.status_code == 411
