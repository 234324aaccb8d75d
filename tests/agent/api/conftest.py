"""A real agent with its control API, a clock the tests move, and a plain HTTP client.

The agent runs on real parts (proxy, SQLCipher store, API on a loopback port); only time is
controlled, so expiry and lock-out are tested without sleeping.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from abhaya.agent.addons.ask import ASK_PATH
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

    def connections(self) -> dict[str, object]:
        """The status call's `connections` block (TLS connections looked inside, passed
        through, ...), as the parent's console reads it."""
        with self.client() as client:
            record = client.get("/v1/status", headers=self.login(client)).json()
        connections: dict[str, object] = record["connections"]
        return connections

    def status_of(self, url: str) -> int:
        """The status the child's browser gets for `url` through the proxy."""
        with self.running.client() as client:
            return client.get(url).status_code

    def access_requests(self, auth: dict[str, str], status: str) -> list[dict[str, Any]]:
        """The children's requests of one status, as the API lists them."""
        with self.client() as api:
            answer = api.get("/v1/requests", params={"status": status}, headers=auth)
        assert answer.status_code == 200, answer.text
        records: list[dict[str, Any]] = answer.json()["requests"]
        return records

    def ask(self, host: str, shown_at: str = "/", /, **form: str) -> httpx.Response:
        """Post the ask-a-parent form as the child's browser does: to the action of the form
        on the warning page at https://host/shown_at, from that page's origin.  `form` holds
        the fields (`reason`, `page`, or hostile ones)."""
        with self.running.client() as client:
            action = form_action(client.get(f"https://{host}{shown_at}").text) or ASK_PATH
            return client.post(f"https://{host}{action}", data=form, headers=browser(host))


def form_action(page: str) -> str | None:
    """The action of the ask-a-parent form on a warning page (a path with its token)."""
    found = re.search(r'id="ask-form" method="post" action="([^"]+)"', page)
    return html.unescape(found.group(1)) if found else None


def browser(host: str, scheme: str = "https") -> dict[str, str]:
    """The headers a browser sends with a form posted from the page at scheme://host/."""
    return {"Origin": f"{scheme}://{host}", "Sec-Fetch-Site": "same-origin"}


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
