"""Answers a refused upload without reading its body, and without it reaching the server.

An addon that answers a request (a warning page, a refused form) sets `flow.response` at
`requestheaders`.  mitmproxy 11.0 then reads the whole request body before it sends that
response: buffered in memory (a 48 MiB upload to a blocked site is held in full, or refused
with mitmproxy's own 413), and past the streaming threshold its layer even raises ("Can't set a
response and enable streaming at the same time").  A child's browser uploading to a blocked
site must get the warning page, and the agent must not hold what it is sent.

So, last in the pipeline, a request whose body may be larger than `SMALL_BODY` is answered the
other way mitmproxy has: the page is kept on the flow, the response is taken back, and the
request is pointed at `SENTINEL_HOST`, a name the destination check refuses before any
connection is made.  mitmproxy then answers the flow with an error response at once (without
reading the body) and closes the connection; `upstream_errors` serves the kept page as that
response.  Rewriting the host only here, last, keeps every earlier addon seeing the real one;
a fresh name also means no kept-alive connection to the real server can be reused for it.
"""

from __future__ import annotations

from mitmproxy import http

from abhaya.agent.addons.error_seam import ErrorPage

SMALL_BODY = 64 * 1024
"""A refused request body up to this size is read and dropped the usual way (keep-alive)."""
SENTINEL_HOST = "abhaya-answered.invalid"
"""Never resolved or dialled: `destination` refuses it at `server_connect`."""
PAGE_KEY = "abhaya.early_page"
"""`flow.metadata` key of the `ErrorPage` kept for a flow answered this way."""
_NO_BODY_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def body_may_be_large(request: http.Request) -> bool:
    """Whether more than `SMALL_BODY` bytes of body may still arrive after the headers."""
    length = request.headers.get("content-length")
    if length is not None:
        return not length.strip().isdigit() or int(length) > SMALL_BODY
    if "chunked" in request.headers.get("transfer-encoding", "").lower():
        return True
    # HTTP/2 and HTTP/3 bodies need no length header: only methods without a body are safe.
    return request.http_version != "HTTP/1.1" and request.method.upper() not in _NO_BODY_METHODS


def kept_page(flow: http.HTTPFlow) -> ErrorPage | None:
    value = flow.metadata.get(PAGE_KEY)
    return value if isinstance(value, ErrorPage) else None


class EarlyAnswers:
    def requestheaders(self, flow: http.HTTPFlow) -> None:
        """Runs after every other addon: turn an answer with a large body pending into an
        immediate one."""
        response = flow.response
        if response is None or not body_may_be_large(flow.request):
            return
        language = response.headers.get("content-language", "en")
        flow.metadata[PAGE_KEY] = ErrorPage(response.status_code, response.text or "", language)
        flow.response = None
        flow.request.stream = True
        flow.request.host = SENTINEL_HOST
