"""An exception in any of Abhaya's addons blocks the flow; it never lets it through.

The failing parts are injected the way they would fail in the field: a page renderer that
raises (given to the agent in place of the packaged one) and a pipeline addon that raises.
The upstream server records every Host it sees, so "never reached" is observed, not assumed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mitmproxy import http
from mitmproxy.proxy.server_hooks import ServerConnectionHookData
from mitmproxy.test import tflow

from abhaya.agent.addons import fixedpage
from abhaya.agent.addons.failclosed import FailClosed
from abhaya.agent.addons.flowdata import failure_of
from abhaya.agent.store.queries import EventFilter, events_page
from abhaya.ui.pages.render import PageRenderer, _package_root
from tests.agent.conftest import RunningAgent, Upstream, start_agent


class BrokenPages(PageRenderer):
    """The packaged pages, except that rendering raises once `broken` is set."""

    def __init__(self) -> None:
        super().__init__(_package_root())
        self.broken = True

    def render(self, *args: Any, **kwargs: Any) -> str:
        if getattr(self, "broken", False):
            raise RuntimeError("the renderer broke")
        return super().render(*args, **kwargs)


class RaiseFor:
    """A pipeline addon that raises at `hook` for requests to `host`."""

    def __init__(self, hook: str, host: str) -> None:
        self.name = f"raise-{hook}"
        self._host = host
        setattr(self, hook, self._raise)

    def _raise(self, flow: http.HTTPFlow) -> None:
        if flow.request.pretty_host == self._host:
            raise RuntimeError(f"failing on {self._host}")


# -- the wrapper on its own --------------------------------------------------------------------


class Sample:
    def __init__(self) -> None:
        self.loaded = False

    def load(self, loader: object) -> None:
        self.loaded = True

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        raise ValueError("boom")

    async def request(self, flow: http.HTTPFlow) -> None:
        raise ValueError("boom")

    def server_connect(self, data: ServerConnectionHookData) -> None:
        raise ValueError("boom")


class Later:
    """A member after the failing one: it still runs, and sees the flow already answered."""

    def __init__(self) -> None:
        self.seen: list[int | None] = []

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        self.seen.append(None if flow.response is None else flow.response.status_code)


def test_lifecycle_hooks_pass_through_and_flow_hooks_are_guarded() -> None:
    addon, later = Sample(), Later()
    wrapped = FailClosed([addon, later])
    assert wrapped.name == "abhaya"
    wrapped.load(None)  # type: ignore[attr-defined]
    assert addon.loaded
    assert not hasattr(wrapped, "response")  # only the hooks some member has
    flow = tflow.tflow()
    wrapped.requestheaders(flow)  # type: ignore[attr-defined]
    assert failure_of(flow) == "sample.requestheaders"
    assert flow.response is not None and flow.response.status_code == fixedpage.STATUS
    assert flow.response.content == fixedpage.BODY
    assert later.seen == [fixedpage.STATUS]


def test_members_run_in_order_as_one_addon() -> None:
    order: list[str] = []

    class First:
        def requestheaders(self, flow: http.HTTPFlow) -> None:
            order.append("first")

    class Second:
        async def requestheaders(self, flow: http.HTTPFlow) -> None:
            order.append("second")

    class Third:
        def requestheaders(self, flow: http.HTTPFlow) -> None:
            order.append("third")

    asyncio.run(FailClosed([First(), Second(), Third()]).requestheaders(tflow.tflow()))  # type: ignore[attr-defined]
    assert order == ["first", "second", "third"]


def test_an_async_hook_that_raises_answers_the_flow() -> None:
    flow = tflow.tflow()
    asyncio.run(FailClosed([Sample()]).request(flow))  # type: ignore[attr-defined]
    assert failure_of(flow) == "sample.request"
    assert flow.response is not None and flow.response.status_code == fixedpage.STATUS


def test_a_failed_server_connect_refuses_the_connection() -> None:
    flow = tflow.tflow()
    data = ServerConnectionHookData(server=flow.server_conn, client=flow.client_conn)
    FailClosed([Sample()]).server_connect(data)  # type: ignore[attr-defined]
    assert data.server.error


def test_a_failure_after_the_response_replaces_it() -> None:
    flow = tflow.tflow(resp=True)
    flow.response.content = b"content nobody checked"  # type: ignore[union-attr]
    wrapped = FailClosed([RaiseFor("response", flow.request.pretty_host)])
    wrapped.response(flow)  # type: ignore[attr-defined]
    assert flow.response is not None and flow.response.content == fixedpage.BODY


def test_the_fixed_page_needs_nothing_but_bytes() -> None:
    text = fixedpage.BODY.decode("utf-8")
    assert "stopped to keep you safe" in text and 'lang="hi"' in text
    assert "{" not in text.partition("<body>")[2]  # no template left unfilled


# -- a real agent with a failing part ----------------------------------------------------------


@pytest.fixture(scope="module")
def broken_pages(
    tmp_path_factory: pytest.TempPathFactory, upstream: Upstream
) -> Iterator[RunningAgent]:
    agent = start_agent(tmp_path_factory.mktemp("broken-pages"), upstream, pages=BrokenPages())
    yield agent
    agent.stop()


@pytest.mark.parametrize(
    "url", ["https://adult.example/", "http://adult.example/", "https://csam-test.invalid/"]
)
def test_a_renderer_that_raises_blocks_instead_of_passing(
    broken_pages: RunningAgent, upstream: Upstream, url: str
) -> None:
    before = len(upstream.hosts_seen)
    with broken_pages.client() as client:
        response = client.get(url)
    assert response.status_code == fixedpage.STATUS
    assert response.content == fixedpage.BODY
    assert upstream.hosts_seen[before:] == []


def test_allowed_pages_still_load_and_the_error_is_recorded(
    broken_pages: RunningAgent, upstream: Upstream
) -> None:
    with broken_pages.client() as client:
        assert client.get("https://example.org/").status_code == 200
        client.get("https://adult.example/page")
    assert broken_pages.agent.services.events.flush(20)
    with contextlib.closing(broken_pages.agent.store.connect(read_only=True)) as conn:
        events = events_page(conn, EventFilter(reasons=("error",))).events
    assert any(item.event.domain == "adult.example" for item in events)
    assert all(item.event.action == "block" for item in events)


@pytest.mark.parametrize(
    ("hook", "size"),
    [("requestheaders", 0), ("request", 0), ("requestheaders", 3 * 1024 * 1024)],
)
def test_a_raising_addon_blocks_an_allowed_site(
    tmp_path: Path, upstream: Upstream, hook: str, size: int
) -> None:
    """Even a streamed upload (sent upstream right after `requestheaders`) never leaves.
    (A streamed body reaches the `request` hook only after it went upstream, which is why
    every decision is made at `requestheaders`.)"""
    agent = start_agent(tmp_path, upstream, extra=[RaiseFor(hook, "example.org")])
    try:
        before = len(upstream.hosts_seen)
        with agent.client() as client:
            response = client.post("https://example.org/upload", content=b"x" * size)
            other = client.get("https://games.example/")
        assert response.status_code == fixedpage.STATUS
        assert "example.org" not in upstream.hosts_seen[before:]
        assert other.status_code == 403  # the rest of the pipeline still works
    finally:
        agent.stop()
