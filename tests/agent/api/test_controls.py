"""Pause/resume and policy get/put over the real API, checked through the real proxy."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest

from abhaya.agent.config import RunConfig
from abhaya.agent.pause import PauseSwitch
from abhaya.agent.store import EventKind
from abhaya.agent.store.queries import EventFilter, events_page
from tests.agent.api.conftest import ApiAgent, Clock, set_first_pin
from tests.agent.conftest import UPSTREAM_NAMES, MapHosts, RunningAgent, Upstream
from tests.conftest import TEST_MODEL_DIR

BLOCKED = "https://casino.example/video"  # gambling, blocked; other tests keep adult unseen
CSAM_DOMAIN = "https://csam-test.invalid/"
CSAM_SEARCH = "https://www.bing.com/search?q=zanzibar+quokka"


def _events(agent: ApiAgent, kind: EventKind) -> list[Any]:
    agent.running.agent.services.events.flush()
    with contextlib.closing(agent.running.agent.store.connect(read_only=True)) as conn:
        return events_page(conn, EventFilter(kinds=(kind,)), limit=100).events


def test_pause_allows_blocked_domains_but_never_csam_and_ends_by_itself(
    with_pin: ApiAgent,
) -> None:
    agent = with_pin
    assert agent.status_of(BLOCKED) == 403
    with agent.client() as api:
        auth = agent.login(api)
        answer = api.post("/v1/pause", json={"minutes": 30}, headers=auth)
        assert answer.status_code == 200, answer.text
        until = dt.datetime.fromisoformat(answer.json()["until"])
        assert until == agent.clock() + dt.timedelta(minutes=30)
        status = api.get("/v1/status", headers=auth).json()
        assert (status["protection"], status["paused_until"]) == ("paused", until.isoformat())

        assert agent.status_of(BLOCKED) == 200
        assert agent.status_of(CSAM_DOMAIN) == 403
        assert agent.status_of(CSAM_SEARCH) == 403
        # A restart reads the same bounded pause back from the store.
        assert PauseSwitch(agent.running.agent.store).paused_until(agent.clock()) == until

        agent.clock.advance(minutes=31)
        assert agent.status_of(BLOCKED) == 403
        auth = agent.login(api)  # the session has expired meanwhile
        status = api.get("/v1/status", headers=auth).json()
        assert (status["protection"], status["paused_until"]) == ("on", None)

        assert api.post("/v1/pause", json={"minutes": 5}, headers=auth).status_code == 200
        assert agent.status_of(BLOCKED) == 200
        assert api.post("/v1/resume", headers=auth).status_code == 200
        assert agent.status_of(BLOCKED) == 403
    actions = [stored.event.action for stored in _events(agent, EventKind.PROTECTION)]
    assert sorted(actions) == ["pause", "pause", "resume"]
    allowed = [
        stored.event
        for stored in _events(agent, EventKind.VERDICT)
        if stored.event.action == "allow"
    ]
    assert allowed and all("paused" in event.detail for event in allowed)
    assert {event.category for event in allowed} == {"gambling"}


@pytest.mark.parametrize(
    "body",
    [
        {"minutes": 0},
        {"minutes": 241},
        {"minutes": "5"},
        {"minutes": True},
        {"minutes": 1.5},
        {},
        {"minutes": 5, "extra": 1},
    ],
)
def test_pause_refuses_bad_minutes(shared: ApiAgent, body: dict[str, object]) -> None:
    with shared.client() as api:
        auth = shared.login(api)
        answer = api.post("/v1/pause", json=body, headers=auth)
    assert answer.status_code == 422, answer.text
    assert "field" in answer.json()


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/pause"), ("POST", "/v1/resume"), ("GET", "/v1/policy"), ("PUT", "/v1/policy")],
)
def test_controls_need_a_token(shared: ApiAgent, method: str, path: str) -> None:
    with shared.client() as api:
        answer = api.request(method, path, json={"minutes": 5})
    assert answer.status_code == 401


def test_policy_get_returns_the_file(shared: ApiAgent) -> None:
    with shared.client() as api:
        record = api.get("/v1/policy", headers=shared.login(api)).json()
    assert Path(record["source"]).read_text(encoding="utf-8") == record["text"]
    assert record["editable"] is True


def test_policy_put_validates_writes_and_applies(with_pin: ApiAgent) -> None:
    agent = with_pin
    assert agent.status_of("https://example.org/") == 200
    with agent.client() as api:
        auth = agent.login(api)
        old = api.get("/v1/policy", headers=auth).json()
        path = Path(old["source"])
        for bad, hint in [
            (old["text"] + "\n[categories.adult\n", "TOML"),
            (old["text"].replace('timezone = "Asia/Kolkata"', 'timezone = "Mars/Base"'), "line"),
            (old["text"].replace('jurisdiction = "in"', 'jurisdiction = "zz"'), "jurisdiction"),
            (old["text"].replace("lists/adult.txt", "lists/missing.txt"), "missing"),
        ]:
            answer = api.put("/v1/policy", json={"text": bad}, headers=auth)
            assert answer.status_code == 422, answer.text
            assert hint in answer.json()["error"]
            assert path.read_text(encoding="utf-8") == old["text"]
        assert api.put("/v1/policy", json={"text": 5}, headers=auth).status_code == 422
        assert agent.status_of("https://example.org/") == 200

        new = old["text"].replace(
            'block = ["custom.example"', 'block = ["example.org", "custom.example"'
        )
        assert new != old["text"]
        answer = api.put("/v1/policy", json={"text": new}, headers=auth)
        assert answer.status_code == 200, answer.text
        assert path.read_text(encoding="utf-8") == new
        assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
        assert agent.status_of("https://example.org/") == 403
        assert api.get("/v1/policy", headers=auth).json()["text"] == new
        assert answer.json()["notices"] == []

        platform = new.replace(
            'allow = ["csam-test.invalid"', 'allow = ["github.io", "csam-test.invalid"'
        )
        answer = api.put("/v1/policy", json={"text": platform}, headers=auth)
        assert answer.status_code == 200, answer.text
        assert any("github.io" in notice for notice in answer.json()["notices"])
    assert "policy" in [stored.event.action for stored in _events(agent, EventKind.PROTECTION)]


def test_a_new_policys_retention_reaches_the_event_writer(with_pin: ApiAgent) -> None:
    """Retention saved from the console applies at the writer's next clean-up, not only after
    the agent's next start."""
    agent = with_pin
    writer = agent.running.agent.services.events
    with agent.client() as api:
        auth = agent.login(api)
        old = api.get("/v1/policy", headers=auth).json()["text"]
        assert "retention_days" not in old
        new = old + "\n[events]\nretention_days = 7\nalert_retention_days = 30\n"
        answer = api.put("/v1/policy", json={"text": new}, headers=auth)
        assert answer.status_code == 200, answer.text
    assert writer.retention is not None
    assert (writer.retention.events_days, writer.retention.alerts_days) == (7, 30)


def test_policy_put_on_the_default_policy_is_refused(tmp_path: Path, upstream: Upstream) -> None:
    config = RunConfig(
        host="127.0.0.1",
        port=0,
        data_dir=tmp_path / "data",
        policy_path=None,
        upstream_ca=upstream.ca_file,
        allow_local_ports=frozenset({upstream.port}),
        model_dir=TEST_MODEL_DIR,
    )
    clock = Clock()
    running = RunningAgent(config, [MapHosts(UPSTREAM_NAMES, upstream.port)], clock=clock)
    agent = set_first_pin(ApiAgent(running.start(), clock, config.data_dir))
    try:
        with agent.client() as api:
            auth = agent.login(api)
            record = api.get("/v1/policy", headers=auth).json()
            assert record["editable"] is False
            answer = api.put("/v1/policy", json={"text": record["text"]}, headers=auth)
            assert answer.status_code == 409
            assert "--policy FILE" in answer.json()["error"]
            assert api.get("/v1/status", headers=auth).status_code == 200
    finally:
        running.stop()


def test_bad_bodies_leave_the_agent_up(shared: ApiAgent) -> None:
    with shared.client() as api:
        auth = shared.login(api)
        for content in (b"{", b"[]", b'"x"'):
            answer = api.post(
                "/v1/pause", content=content, headers={**auth, "Content-Type": "application/json"}
            )
            assert answer.status_code == 400
        answer: httpx.Response = api.get("/v1/status", headers=auth)
    assert answer.status_code == 200 and answer.json()["protection"] == "on"
