"""Pins the one replacement of mitmproxy's code: if an upgrade moves or changes the two
functions that build error responses, these fail (and the agent refuses to start)."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from mitmproxy.proxy.layers.http import _base, _http1, _http2

from abhaya.agent.addons import error_seam
from abhaya.agent.addons.error_seam import ErrorPage
from tests.agent.conftest import RunningAgent


def test_mitmproxy_still_builds_error_responses_where_the_seam_expects() -> None:
    """The originals: `_http1.make_error_response(status_code, message)` builds the whole
    HTTP/1 response and `_http2` calls `format_error(status_code, message)` by its global name."""
    assert tuple(inspect.signature(_base.format_error).parameters) == ("status_code", "message")
    assert "format_error(event.code, event.message)" in inspect.getsource(_http2)
    assert "make_error_response(event.code, event.message)" in inspect.getsource(_http1)
    assert "make_error_response(400, str(e))" in inspect.getsource(_http1)


def test_a_running_agent_has_installed_the_seam(running: RunningAgent) -> None:
    assert error_seam.installed()


def test_an_offered_page_is_served_once_then_the_fixed_page(running: RunningAgent) -> None:
    async def one_task() -> tuple[bytes, bytes]:
        error_seam.offer(ErrorPage(504, "<p>offered</p>", "hi"))
        first = _http1.make_error_response(502, "raw detail")
        second = _http1.make_error_response(502, "raw detail")
        return first, second

    first, second = asyncio.run(one_task())
    assert first.startswith(b"HTTP/1.1 504 ")
    assert b"content-language: hi" in first.lower()
    assert first.endswith(b"<p>offered</p>")
    assert second.startswith(b"HTTP/1.1 502 ")
    assert b"Request not completed" in second
    assert b"raw detail" not in second


def test_a_page_offered_in_one_task_is_never_served_in_another(running: RunningAgent) -> None:
    async def main() -> bytes:
        async def offering() -> None:
            error_seam.offer(ErrorPage(502, "<p>someone else's page</p>", "en"))

        await asyncio.create_task(offering())
        return bytes(vars(_http2)["format_error"](502, "x"))

    assert b"someone else's page" not in asyncio.run(main())


def test_install_refuses_a_changed_mitmproxy(
    running: RunningAgent, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault that cannot be caused otherwise: mitmproxy's function with other parameters."""

    def changed(code: int, text: str, flow: object) -> bytes:
        return b""

    monkeypatch.setitem(vars(_http1), "make_error_response", changed)
    with pytest.raises(RuntimeError, match="error_seam.py"):
        error_seam.install("<p>fallback</p>")
