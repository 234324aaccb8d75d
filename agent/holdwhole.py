"""Holding an image's body whole past mitmproxy's streaming size, so it is checked first.

mitmproxy streams a body once it is larger than its `stream_large_bodies` option (1 MB here,
so that large downloads flow): it decides when the headers arrive, from the length they
declare, and again each time more of a body arrives, from what it has buffered.  The option is
global and mitmproxy has no switch for one flow, so an image of 3 MB, or one sent without a
length, would reach the browser before Abhaya could look at it.

`install()` wraps mitmproxy's `HttpStream.check_body_size` once: for a response whose flow was
marked with `hold_whole(flow, limit)` (by the image addon, at `responseheaders`), the check is
skipped while the buffered body is within `limit`, so the whole image arrives at the `response`
hook.  Past the limit, and for every other flow and every request, mitmproxy decides exactly as
before (its `body_size_limit` included).  Written against mitmproxy 11.0, which is pinned;
`tests/agent/test_holdwhole.py` fails if the wrapped method is not where it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mitmproxy import http
from mitmproxy.proxy.layers.http import HttpStream

HOLD_KEY = "abhaya.hold_whole"
"""`flow.metadata` key: the most bytes of this flow's response to hold before streaming."""
_WRAPPED = "_abhaya_holds_whole"


def hold_whole(flow: http.HTTPFlow, limit: int) -> None:
    """Hold this flow's response body whole, up to `limit` bytes, before anything is sent."""
    flow.metadata[HOLD_KEY] = limit


def held_whole(flow: http.HTTPFlow) -> bool:
    """Whether this flow's response was marked to be held whole."""
    return HOLD_KEY in flow.metadata


def install() -> None:
    """Wrap `HttpStream.check_body_size` (once; calling again does nothing)."""
    original: Callable[..., Any] = HttpStream.check_body_size
    if getattr(original, _WRAPPED, False):
        return

    def check_body_size(self: HttpStream, request: bool) -> Any:
        limit = None if request else self.flow.metadata.get(HOLD_KEY)
        if isinstance(limit, int) and len(self.response_body_buf) <= limit:
            return False  # held: the response hook gets the whole body
        return (yield from original(self, request))

    setattr(check_body_size, _WRAPPED, True)
    setattr(HttpStream, "check_body_size", check_body_size)  # noqa: B010 - a method, on purpose
