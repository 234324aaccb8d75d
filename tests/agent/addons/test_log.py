"""The log addon on a real running agent: every verdict is stored, whatever bytes it came with.

Two requests found by fuzzing used to lose events: a Host header with a byte that is not UTF-8
killed the event writer (nothing was stored after it), and a Host of `[x` made the log addon
raise before the event was even made.  Both are sent here as raw bytes, as a hostile client
would, through the real proxy into the real store.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from abhaya.agent.store import EventKind
from abhaya.agent.store.queries import EventFilter, events_page
from tests.agent.conftest import RunningAgent, Upstream, start_agent

HOSTILE = [
    b"GET http://1xbet.com/ HTTP/1.1\r\nHost: 1xbet.\xdfom\r\n\r\n",
    b"GET http://1xbet.com/ HTTP/1.1\r\nHost: [x\r\n\r\n",
]


@pytest.fixture
def agent(tmp_path: Path, upstream: Upstream) -> Iterator[RunningAgent]:
    running = start_agent(tmp_path, upstream)
    yield running
    running.stop()


def _verdict_domains(agent: RunningAgent) -> list[str]:
    assert agent.agent.services.events.flush()
    with contextlib.closing(agent.agent.store.connect(read_only=True)) as conn:
        page = events_page(conn, EventFilter(kinds=(EventKind.VERDICT,)))
    return sorted(item.event.domain for item in page.events)


def test_hostile_hosts_are_recorded_and_later_events_still_are(agent: RunningAgent) -> None:
    for request in HOSTILE:
        status = agent.raw(request).split(b"\r\n", 1)[0]
        assert status.startswith(b"HTTP/1.1 "), status
    with agent.client() as client:
        assert client.get("https://bet.example/after").status_code == 403  # a warning page

    domains = _verdict_domains(agent)

    assert "1xbet.\\xdfom" in domains  # the odd byte is kept, visibly escaped
    assert "[x" in domains
    assert "bet.example" in domains  # and the writer still stores what comes after
    health = agent.agent.services.events.health()
    assert (health.alive, health.failed, health.restarts) == (True, 0, 0)


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
