"""The pages addon on a real proxy: warning pages in place of the site, in the child's language."""

from __future__ import annotations

import pytest

from tests.agent.conftest import RunningAgent, Upstream


def test_blocked_https_domain_gets_a_warning_page_without_contacting_it(
    running: RunningAgent, upstream: Upstream
) -> None:
    with running.client() as client:
        response = client.get("https://www.adult.example/video")
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text and 'lang="en"' in response.text
    assert not [host for host in upstream.hosts_seen if "adult.example" in host]


def test_keyword_search_gets_a_warning_page(running: RunningAgent) -> None:
    with running.client() as client:
        response = client.get("https://www.bing.com/search?q=online+casino+tips")
    assert response.status_code == 403
    assert 'id="ask-parent"' in response.text  # gambling allows asking a parent


def test_hostile_query_is_escaped_on_the_page(running: RunningAgent) -> None:
    with running.client() as client:
        response = client.get('https://www.bing.com/search?q=online+casino+"><script>x()</script>')
    assert response.status_code == 403
    assert "<script>x()" not in response.text


def test_csam_page_has_the_law_and_help_lines(running: RunningAgent) -> None:
    with running.client() as client:
        response = client.get("https://csam-test.invalid/")
    assert response.status_code == 403
    for text in ("67B", "POCSO", "1930", "cybercrime.gov.in", "1098"):
        assert text in response.text


def test_page_language_follows_accept_language(running: RunningAgent) -> None:
    with running.client(headers={"Accept-Language": "hi-IN,hi;q=0.9,en;q=0.5"}) as client:
        response = client.get("https://csam-test.invalid/")
    assert 'lang="hi"' in response.text
    assert any("\u0900" <= char <= "\u097f" for char in response.text)


def test_block_pages_offer_no_way_on(running: RunningAgent) -> None:
    with running.client() as client:
        for url in ("https://adult.example/", "https://csam-test.invalid/"):
            assert 'id="continue"' not in client.get(url).text


@pytest.mark.parametrize("size", [10_000, 3 * 1024 * 1024])
def test_uploads_to_a_blocked_site_never_reach_it(
    running: RunningAgent, upstream: Upstream, size: int
) -> None:
    """Bodies above the streaming threshold are streamed for allowed sites; for a blocked one
    the decision comes first, so nothing is forwarded."""
    before = len(upstream.hosts_seen)
    with running.client() as client:
        response = client.post("https://adult.example/upload", content=b"x" * size)
    assert response.status_code == 403
    assert upstream.hosts_seen[before:] == []
