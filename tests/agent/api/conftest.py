"""A real agent with its control API, a clock the tests move, and a plain HTTP client.

The agent runs on real parts (proxy, SQLCipher store, API on a loopback port); only time is
controlled, so expiry and lock-out are tested without sleeping.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.agent.conftest import RunningAgent, Upstream, start_agent

PIN = "2468"


class Clock:
    """An aware UTC clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> None:
        with self._lock:
            self._now += timedelta(**delta)


@dataclass
class ApiAgent:
    running: RunningAgent
    clock: Clock
    data_dir: Path

    @property
    def port(self) -> int:
        address = self.running.agent.api.address
        assert address is not None
        return address.port

    def client(self) -> httpx.Client:
        """Straight to the API: no proxy, no environment settings."""
        return httpx.Client(base_url=f"http://127.0.0.1:{self.port}", trust_env=False, timeout=20)

    def login(self, client: httpx.Client, pin: str = PIN) -> dict[str, str]:
        """Log in and return the Authorization header to send."""
        answer = client.post("/v1/login", json={"pin": pin})
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}


def start_api_agent(folder: Path, upstream: Upstream) -> ApiAgent:
    clock = Clock()
    return ApiAgent(start_agent(folder, upstream, clock=clock), clock, folder / "data")


@pytest.fixture
def api_agent(tmp_path: Path, upstream: Upstream) -> Iterator[ApiAgent]:
    """A fresh agent with no PIN set yet."""
    agent = start_api_agent(tmp_path, upstream)
    yield agent
    agent.running.stop()


def set_first_pin(agent: ApiAgent) -> ApiAgent:
    with agent.client() as client:
        answer = client.post("/v1/pin", json={"new": PIN})
    assert answer.status_code == 200, answer.text
    return agent


@pytest.fixture
def with_pin(api_agent: ApiAgent) -> ApiAgent:
    """A fresh agent whose parent PIN is PIN (for tests that change its state)."""
    return set_first_pin(api_agent)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, upstream: Upstream) -> Iterator[ApiAgent]:
    """One agent with PIN set for a module's tests that neither lock it nor move its clock."""
    agent = start_api_agent(tmp_path_factory.mktemp("api"), upstream)
    set_first_pin(agent)
    yield agent
    agent.running.stop()
