"""Request URLs as the addons hand them to `decide()` and the event log."""

from __future__ import annotations

import pytest
from mitmproxy import http

from abhaya.agent.addons.flowdata import request_url
from abhaya.filters.urlnorm import parse_url


@pytest.mark.parametrize(
    ("url", "host_header", "expected", "claimed"),
    [
        (
            "https://example.org/a?b=1",
            None,
            "https://example.org/a?b=1",
            "https://example.org/a?b=1",
        ),
        ("http://[::1]:8080/x?y=1", None, "http://[::1]:8080/x?y=1", "http://[::1]:8080/x?y=1"),
        (
            "https://localhost:4443/",
            "adult.example",
            "https://localhost:4443/",
            "https://adult.example:4443/",
        ),
    ],
)
def test_request_url(url: str, host_header: str | None, expected: str, claimed: str) -> None:
    request = http.Request.make("GET", url)
    if host_header is not None:
        request.headers["Host"] = host_header
    assert request_url(request) == expected
    assert request_url(request, by_host_header=True) == claimed
    assert parse_url(request_url(request)).host == parse_url(expected).host
