"""The one place where Abhaya replaces part of mitmproxy: the body of its error responses.

Why: when an upstream server cannot be reached (a name that does not resolve, a refused or
timed-out connection, a certificate that fails verification) or a request is malformed,
mitmproxy 11.0 answers the client with its own bare page ("502 Bad Gateway / [Errno -2] Name
or service not known").  A child would take that for a broken computer or a block.  mitmproxy
has no hook to replace it: the `error` hook runs, and right after it, in the same asyncio task,
the HTTP layer builds the response with `mitmproxy.proxy.layers.http._http1.make_error_response`
(HTTP/1) or `_http2.format_error` (HTTP/2, the body only).  (Upstream, a proposal lets the
`error` hook set `flow.response`; 11.0 does not have it.)

How: the `error` hook (`upstream_errors.UpstreamErrors`) renders the flow's page and leaves it
in a `ContextVar` with `offer()`; the two functions are replaced once, by `install()`, with ones
that serve the offered page, or a fixed Abhaya page when nothing was offered (no flow: a
malformed request line, say).  A ContextVar is per task, so a page offered for one flow can
never be served on another connection.  `install()` checks that both functions still exist
with the expected parameters and raises otherwise, and tests/agent/addons/test_error_seam.py
pins the behaviour end to end, so a mitmproxy upgrade that moves them fails loudly.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial

from mitmproxy import http
from mitmproxy.net.http import http1
from mitmproxy.proxy.layers.http import _http1, _http2

from abhaya.agent.addons.flowdata import page_headers


@dataclass(frozen=True, slots=True)
class ErrorPage:
    """A rendered page for the error response of the current flow."""

    status: int
    html: str
    language: str


_OFFERED: ContextVar[ErrorPage | None] = ContextVar("abhaya_error_page", default=None)
_EXPECTED = {
    "make_error_response": (_http1, ("status_code", "message")),
    "format_error": (_http2, ("status_code", "message")),
}


def offer(page: ErrorPage) -> None:
    """Serve `page` as the next error response built in this task (the current flow's)."""
    _OFFERED.set(page)


def _take(fallback: str, status: int) -> ErrorPage:
    page = _OFFERED.get()
    _OFFERED.set(None)
    return page if page is not None else ErrorPage(status, fallback, "en")


def http1_error_response(fallback: str, status_code: int, message: str = "") -> bytes:
    """Replaces `_http1.make_error_response`: the whole response, status line included."""
    page = _take(fallback, status_code)
    headers = {"Connection": "close", **page_headers(page.language)}
    response = http.Response.make(page.status, page.html.encode(), headers)
    raw: bytes = http1.assemble_response(response)
    return raw


def http2_error_body(fallback: str, status_code: int, message: str) -> bytes:
    """Replaces `_http2.format_error`: the body only (the layer sends status and headers)."""
    return _take(fallback, status_code).html.encode()


def install(fallback: str) -> None:
    """Replace mitmproxy's error bodies; `fallback` is served when no page was offered.

    Idempotent: a later call only replaces the fallback (every agent renders the same one).
    """
    replacements = {
        "make_error_response": partial(http1_error_response, fallback),
        "format_error": partial(http2_error_body, fallback),
    }
    for name, (module, parameters) in _EXPECTED.items():
        # The layers call these as module globals, so the module's namespace is replaced.
        current: Callable[..., bytes] | None = vars(module).get(name)
        target = current.func if isinstance(current, partial) else current
        found = tuple(inspect.signature(target).parameters) if callable(target) else ()
        if found[-len(parameters) :] != parameters:
            raise RuntimeError(
                f"mitmproxy changed {module.__name__}.{name} (parameters {found}): Abhaya's "
                "error pages need agent/addons/error_seam.py updated"
            )
    for name, (module, _) in _EXPECTED.items():
        vars(module)[name] = replacements[name]


def installed() -> bool:
    """True once `install` has run (the tests pin that the agent does it)."""
    return all(
        isinstance(vars(module).get(name), partial) for name, (module, _) in _EXPECTED.items()
    )
