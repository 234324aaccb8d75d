"""The last word: what was not decided, not answered or met an error is blocked, paused or not."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

import pytest
from mitmproxy import http

from abhaya.agent.addons import fixedpage
from abhaya.agent.addons.flowdata import VERDICT_KEY
from abhaya.agent.addons.policy import overridable
from abhaya.agent.store.queries import EventFilter, events_page
from abhaya.filters.verdict import Action, Category, Reason, Verdict, error_verdict
from tests.agent.conftest import Upstream, start_agent


class ForgetVerdict:
    """A pipeline addon with a bug: it drops the decision for one host."""

    def __init__(self, host: str) -> None:
        self._host = host

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if flow.request.pretty_host == self._host:
            flow.metadata.pop(VERDICT_KEY, None)


class DropPage:
    """A pipeline addon with a bug: it removes the warning page of one host."""

    def __init__(self, host: str) -> None:
        self._host = host

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if flow.request.pretty_host == self._host:
            flow.response = None


@pytest.mark.parametrize(
    ("addon", "url"),
    [
        (ForgetVerdict("example.org"), "https://example.org/"),
        (ForgetVerdict("adult.example"), "https://adult.example/"),
        (DropPage("adult.example"), "https://adult.example/"),
        (DropPage("csam-test.invalid"), "https://csam-test.invalid/"),
    ],
)
def test_undecided_or_unanswered_requests_are_blocked(
    tmp_path: Path, upstream: Upstream, addon: object, url: str
) -> None:
    agent = start_agent(tmp_path, upstream, extra=[addon])
    try:
        before = len(upstream.hosts_seen)
        with agent.client() as client:
            response = client.get(url)
        assert response.status_code == fixedpage.STATUS
        assert upstream.hosts_seen[before:] == []
        assert agent.agent.services.events.flush(20)
        with contextlib.closing(agent.agent.store.connect(read_only=True)) as conn:
            events = events_page(conn, EventFilter(reasons=("error",))).events
        assert [item.event.action for item in events] == ["block"]
    finally:
        agent.stop()


@pytest.mark.parametrize(
    ("verdict", "expected"),
    [
        (Verdict(Action.BLOCK, Reason.LIST, Category.ADULT), True),
        (Verdict(Action.WARN, Reason.KEYWORD, Category.SELF_HARM), True),
        (Verdict(Action.BLOCK, Reason.SCHEDULE), True),
        (Verdict(Action.BLOCK, Reason.LIST, Category.CSAM), False),
        (Verdict(Action.BLOCK, Reason.INVALID), False),
        (error_verdict("x"), False),
        (Verdict(Action.BLOCK, Reason.LIMITS), False),
        (Verdict(Action.BLOCK, Reason.LOCAL_ADDRESS), False),
        (Verdict(Action.ALLOW, Reason.NO_MATCH), False),
    ],
)
def test_what_an_approval_or_a_pause_may_let_through(verdict: Verdict, expected: bool) -> None:
    assert overridable(verdict) is expected


def test_a_pause_never_lets_an_unreadable_address_through(
    tmp_path: Path, upstream: Upstream
) -> None:
    agent = start_agent(tmp_path, upstream)
    try:
        services = agent.agent.services
        services.pause.pause(services.clock() + dt.timedelta(minutes=30))
        with agent.client() as client:
            assert client.get("https://casino.example/").status_code == 200  # paused
            assert client.get("https://csam-test.invalid/").status_code == 403  # never paused
        reply = agent.raw(b"GET http://999.1.1.1/ HTTP/1.1\r\nHost: 999.1.1.1\r\n\r\n")
        assert reply.startswith(b"HTTP/1.1 403")
        assert services.events.flush(20)
        with contextlib.closing(agent.agent.store.connect(read_only=True)) as conn:
            invalid = events_page(conn, EventFilter(reasons=("invalid",))).events
        assert [item.event.action for item in invalid] == ["block"]
    finally:
        agent.stop()
