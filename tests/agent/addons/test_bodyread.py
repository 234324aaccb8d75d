"""Reading a search body within bounds: what can be waited for at `requestheaders`, and what a
compressed or oversized body gives at `request` (mitmproxy's own request objects)."""

from __future__ import annotations

import gzip
import zlib

import pytest
from mitmproxy import http

from abhaya.agent.addons.bodyread import UnreadableBody, cannot_wait_for, read_body
from abhaya.filters.search import MAX_BODY_BYTES

URL = "https://www.youtube.com/youtubei/v1/search"
BODY = b'{"query": "rain"}'


def _request(
    raw: bytes = BODY, version: str = "HTTP/1.1", length: str | None = "auto", **headers: str
) -> http.Request:
    """A POST as mitmproxy hands it to the addons: `raw` as received (before any content
    coding is undone), with a Content-Length of its size unless `length` says otherwise."""
    request = http.Request.make("POST", URL)
    request.http_version = version
    request.raw_content = raw
    del request.headers["content-length"]
    if length is not None:
        request.headers["content-length"] = str(len(raw)) if length == "auto" else length
    for name, value in headers.items():
        request.headers[name.replace("_", "-")] = value
    return request


@pytest.mark.parametrize(
    ("request_", "problem"),
    [
        (_request(), None),
        (_request(version="HTTP/2.0"), None),  # browsers declare the length over HTTP/2 too
        (_request(b"x" * MAX_BODY_BYTES), None),
        (_request(b"x" * (MAX_BODY_BYTES + 1)), "larger than 256 kB"),
        (_request(b"", length=None), None),  # HTTP/1.1 with neither header: no body
        (_request(b"", version="HTTP/2.0", length=None), "declare its length"),
        (_request(b"", length=None, transfer_encoding="chunked"), "declare its length"),
        (_request(length="12, 12"), "unreadable length"),
        (_request(length="-1"), "unreadable length"),
    ],
)
def test_cannot_wait_for(request_: http.Request, problem: str | None) -> None:
    found = cannot_wait_for(request_)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_a_streamed_body_is_never_waited_for() -> None:
    request = _request()
    request.stream = True
    assert cannot_wait_for(request) == "is larger than the proxy holds back"


@pytest.mark.parametrize(
    ("content", "coding"),
    [
        (BODY, ""),
        (BODY, "identity"),
        (gzip.compress(BODY), "gzip"),
        (gzip.compress(BODY), "X-GZIP"),
        (zlib.compress(BODY), "deflate"),
    ],
)
def test_read_body(content: bytes, coding: str) -> None:
    headers = {"content_encoding": coding} if coding else {}
    assert read_body(_request(content, **headers)) == BODY


@pytest.mark.parametrize(
    ("content", "coding", "why"),
    [
        # a zip bomb: 8 MiB of zeros in a few kB, inflated only to the limit
        (gzip.compress(b"\x00" * (8 * 1024 * 1024)), "gzip", "inflates to more than 256 kB"),
        (gzip.compress(BODY)[:-6], "gzip", "is cut short"),
        (b"plain text", "gzip", "is not valid gzip"),
        (BODY, "br", "is encoded as 'br'"),
        (BODY, "gzip, gzip", "is encoded as 'gzip, gzip'"),
        (b"x" * (MAX_BODY_BYTES + 1), "", "is larger than 256 kB"),
    ],
)
def test_unreadable_bodies(content: bytes, coding: str, why: str) -> None:
    headers = {"content_encoding": coding} if coding else {}
    with pytest.raises(UnreadableBody, match=why):
        read_body(_request(content, **headers))


def test_a_streamed_body_cannot_be_read() -> None:
    request = _request()
    request.data.content = None
    with pytest.raises(UnreadableBody, match="sent on before it could be read"):
        read_body(request)
