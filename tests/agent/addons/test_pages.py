"""The pages addon on a real proxy: warning pages in place of the site, in the child's language."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.agent.api.conftest import Clock
from tests.agent.conftest import RunningAgent, Upstream, start_agent
from tests.conftest import POLICY, with_allowed_hours

SELF_HARM_WARN = '[categories.self_harm]\naction = "warn"\n'
CSAM_SEARCH = "https://www.bing.com/search?q=Zanzibar+QUOKKA+pics"
"""A csam search: the test policy's csam keyword list holds the generated term "zanzibar quokka"."""
SELF_HARM_SEARCH = "https://duckduckgo.com/?q=i+want+to+vanish+forever"
"""A self-harm search: the test policy's self_harm keyword list holds "want to vanish forever"."""


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


def test_csam_search_gets_the_zero_tolerance_page_without_the_query(
    running: RunningAgent, upstream: Upstream
) -> None:
    before = len(upstream.hosts_seen)
    for lang in ("en", "hi"):
        with running.client(headers={"Accept-Language": lang}) as client:
            response = client.get(CSAM_SEARCH)
        assert response.status_code == 403
        page = response.text.lower()
        for text in ("67b", "1930", "1098", "14416", 'id="accident"', 'id="self-help"'):
            assert text in page, text
        for typed in ("zanzibar", "quokka", "pics", "bing.com", "search?q"):
            assert typed not in page, typed
        assert 'id="continue"' not in page and 'id="ask-parent"' not in page
    assert upstream.hosts_seen[before:] == []  # the search never reached the engine


def test_self_harm_search_gets_the_support_page_first(running: RunningAgent) -> None:
    """Under the test policy self_harm is `warn` without `allow_continue`: no way on."""
    with running.client() as client:
        response = client.get(SELF_HARM_SEARCH)
    assert response.status_code == 403
    assert "You are not alone" in response.text
    assert "14416" in response.text and "1098" in response.text
    assert "vanish" not in response.text
    assert 'id="continue"' not in response.text


def visible_text(page: str) -> str:
    """The page without its tags and attributes: what a person reads."""
    return re.sub(r"<[^>]*>", " ", page)


@pytest.fixture(scope="module")
def continuing(
    tmp_path_factory: pytest.TempPathFactory, upstream: Upstream
) -> Iterator[RunningAgent]:
    """An agent whose policy lets a child go on past the self-harm page."""
    assert SELF_HARM_WARN in POLICY
    policy = POLICY.replace(SELF_HARM_WARN, SELF_HARM_WARN + "allow_continue = true\n")
    agent = start_agent(tmp_path_factory.mktemp("continuing"), upstream, policy=policy)
    yield agent
    agent.stop()


@pytest.mark.parametrize(
    ("lang", "label", "url"),
    [
        ("en", "I am safe, continue", SELF_HARM_SEARCH),
        # another engine: following the first link grants its host for a while
        ("hi", "मैं सुरक्षित हूँ", "https://www.bing.com/search?q=want+to+vanish+forever"),
    ],
)
def test_self_harm_page_offers_i_am_safe_where_the_policy_allows(
    continuing: RunningAgent, lang: str, label: str, url: str
) -> None:
    origin = url.partition("/search")[0].partition("/?")[0]
    with continuing.client(headers={"Accept-Language": lang}) as client:
        page = client.get(url)
        assert page.status_code == 403
        link = re.search(r'id="continue" href="([^"]+)"[^>]*>([^<]+)</a>', page.text)
        assert link is not None and label in link.group(2)
        assert "vanish" not in visible_text(page.text)  # only in the link back to the search
        followed = client.get(origin + html.unescape(link.group(1)))
        assert followed.status_code == 200
        assert "abhaya-continue" not in followed.json()["path"]  # the token never reaches it


def test_csam_search_is_never_continued_even_where_self_harm_is(continuing: RunningAgent) -> None:
    """A child who went on past the self-harm page on www.bing.com is still stopped there for
    csam, and a forged token does not help."""
    with continuing.client() as client:
        shown = client.get("https://www.bing.com/search?q=want+to+vanish+forever+now")
        link = re.search(r'id="continue" href="([^"]+)"', shown.text)
        if link is not None:  # not yet granted by an earlier test
            client.get("https://www.bing.com" + html.unescape(link.group(1)))
        assert client.get("https://www.bing.com/search?q=want+to+vanish+forever").status_code == 200
        page = client.get(CSAM_SEARCH)
        assert page.status_code == 403
        assert 'id="continue"' not in page.text
        forged = client.get(CSAM_SEARCH + "&abhaya-continue=1.00")
        assert forged.status_code == 403


MORNINGS = with_allowed_hours(POLICY, "09:00", "11:00")


@pytest.mark.parametrize(
    ("utc_hour", "said"),
    [
        (2, "You can use the internet again today from 09:00."),  # 07:30 in Kolkata
        (7, "You can use the internet again tomorrow from 09:00."),  # 12:30
    ],
)
def test_outside_the_allowed_hours_the_page_says_when_they_start(
    tmp_path: Path, upstream: Upstream, utc_hour: int, said: str
) -> None:
    clock = Clock(datetime(2026, 12, 2, utc_hour, 0, tzinfo=UTC))
    agent = start_agent(tmp_path, upstream, clock=clock, policy=MORNINGS)
    try:
        with agent.client() as client:
            response = client.get("https://example.org/", headers={"Accept-Language": "en"})
        assert response.status_code == 403
        assert "not allowed at this time" in response.text
        assert f'<p id="opens">{said}</p>' in response.text
    finally:
        agent.stop()
