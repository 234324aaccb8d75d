"""The policy watcher survives its own failures, and the agent closes every part when it stops."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

from abhaya.agent.api.discovery import API_FILE_NAME
from abhaya.agent.store import Event, EventKind
from abhaya.agent.store.queries import EventFilter, events_page
from abhaya.ui.pages.render import PageRenderer, _package_root
from tests.agent.conftest import RunningAgent, Upstream, start_agent


class FlakyPages(PageRenderer):
    """The packaged pages, whose policy check raises an unexpected error while `broken`."""

    def __init__(self) -> None:
        super().__init__(_package_root())
        self.broken = False

    def check_jurisdiction(self, *args: Any, **kwargs: Any) -> str:
        if self.broken:
            raise RuntimeError("the check broke")
        return super().check_jurisdiction(*args, **kwargs)


def _protection_events(agent: RunningAgent, action: str) -> list[str]:
    assert agent.agent.services.events.flush(20)
    with contextlib.closing(agent.agent.store.connect(read_only=True)) as conn:
        page = events_page(conn, EventFilter(kinds=(EventKind.PROTECTION,)), limit=100)
    return [item.event.detail for item in page.events if item.event.action == action]


def _wait_for(condition: Any, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _block(policy: Path, domain: str) -> None:
    text = policy.read_text(encoding="utf-8")
    policy.write_text(
        text.replace('block = ["custom.example"', f'block = ["{domain}", "custom.example"'),
        encoding="utf-8",
    )


def test_the_watcher_survives_an_unexpected_error_and_shutdown_closes_everything(
    tmp_path: Path, upstream: Upstream
) -> None:
    pages = FlakyPages()
    agent = start_agent(tmp_path, upstream, pages=pages, reload_interval=0.1)
    policy = tmp_path / "policy" / "policy.toml"
    try:
        pages.broken = True
        _block(policy, "example.org")
        _wait_for(lambda: _protection_events(agent, "watcher_error"))
        assert agent.agent.watcher.failures >= 1
        with agent.client() as client:  # the policy in force stays
            assert client.get("https://example.org/").status_code == 200
        pages.broken = False
        _wait_for(lambda: agent.agent.watcher.failures == 0)
        with agent.client() as client:  # and the watcher carried on: the change applies
            assert client.get("https://example.org/").status_code == 403
        assert _protection_events(agent, "policy_reloaded")
    finally:
        agent.stop()
    assert not (tmp_path / "data" / API_FILE_NAME).exists()
    writer = agent.agent.services.events
    assert not writer.submit(Event(time=agent.agent.services.clock(), kind=EventKind.PROTECTION))
    with contextlib.closing(agent.agent.store.connect(read_only=True)) as conn:
        page = events_page(conn, EventFilter(), limit=500)
    assert any(item.event.action == "watcher_error" for item in page.events)


def test_a_refused_policy_is_recorded_for_the_parent(tmp_path: Path, upstream: Upstream) -> None:
    agent = start_agent(tmp_path, upstream, reload_interval=0.1)
    policy = tmp_path / "policy" / "policy.toml"
    try:
        policy.write_text(policy.read_text(encoding="utf-8") + "\nnonsense = 1\n", "utf-8")
        _wait_for(lambda: _protection_events(agent, "policy_refused"))
        assert "nonsense" in _protection_events(agent, "policy_refused")[0]
    finally:
        agent.stop()
