"""Reading the body of a request whose search text is in it, within bounds, or saying why not.

The policy addon judges a body search at the `request` hook, when mitmproxy has buffered the
whole body.  That only works for a body mitmproxy will buffer: one it streams (larger than the
proxy's streaming threshold, or of a size not declared up front, which mitmproxy starts to
stream once its buffer passes the threshold, without asking any addon again) goes to the site
before any addon could read it.  So `cannot_wait_for` is asked at `requestheaders`, and such a
request is blocked there.  The body itself comes from the network: a compressed one is
inflated only up to `MAX_BODY_BYTES` (a zip bomb costs nothing), and an encoding that cannot
be read that way is refused, never passed unread.
"""

from __future__ import annotations

import zlib

from mitmproxy import http

from abhaya.filters.search import MAX_BODY_BYTES

_INFLATED = frozenset({"gzip", "x-gzip", "deflate"})
_GZIP_OR_ZLIB = zlib.MAX_WBITS | 32
"""zlib's window bits that accept a gzip or a zlib header, whichever comes."""


class UnreadableBody(ValueError):
    """The body cannot be read within bounds; the message says why, for the verdict's detail."""


def cannot_wait_for(request: http.Request) -> str | None:
    """Why the body of this request cannot be held back and read before it goes on, or None.

    Asked at `requestheaders`.  Browsers declare the length of a script's JSON body
    (Content-Length), over HTTP/1.1 and HTTP/2 alike.
    """
    if request.stream:
        return "is larger than the proxy holds back"
    length = request.headers.get("content-length")
    if length is not None:
        size = int(length) if length.strip().isdigit() else -1
        if size < 0:
            return "has an unreadable length"
        if size > MAX_BODY_BYTES:
            return f"is larger than {MAX_BODY_BYTES // 1024} kB"
        return None
    if "transfer-encoding" in request.headers or request.is_http2 or request.is_http3:
        return "does not declare its length"
    return None  # HTTP/1 without either header: no body


def read_body(request: http.Request) -> bytes:
    """The request body as sent before any content coding, at most `MAX_BODY_BYTES`.

    Raises `UnreadableBody` for a body that was streamed, is too large, or is encoded in a way
    that cannot be undone here.
    """
    raw = request.raw_content
    if raw is None:
        raise UnreadableBody("was sent on before it could be read")
    if len(raw) > MAX_BODY_BYTES:
        raise UnreadableBody(f"is larger than {MAX_BODY_BYTES // 1024} kB")
    coding = request.headers.get("content-encoding", "").strip().lower()
    if coding in ("", "identity"):
        return raw
    if coding not in _INFLATED:
        raise UnreadableBody(f"is encoded as {coding[:40]!r}")
    inflater = zlib.decompressobj(_GZIP_OR_ZLIB)
    try:
        body = inflater.decompress(raw, MAX_BODY_BYTES + 1)
    except zlib.error as err:
        raise UnreadableBody(f"is not valid {coding}: {err}") from None
    if len(body) > MAX_BODY_BYTES or inflater.unconsumed_tail:
        raise UnreadableBody(f"inflates to more than {MAX_BODY_BYTES // 1024} kB")
    if not inflater.eof:
        raise UnreadableBody(f"is cut short ({coding})")
    return body
