"""The readable evidence page: every fact on it, everything escaped, and no image anywhere."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from markupsafe import escape

from abhaya.agent.imageevidence import ImageEvidence
from abhaya.ui.evidence.render import render_report
from tests.client.test_evidence import a_report

HOSTILE = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)",
    "javascript:alert(1)//<b>",
)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    parser.close()
    return parser.tags


def test_the_page_shows_what_when_where_which_hashes_and_where_to_file() -> None:
    page = render_report(a_report())
    for shown in (
        "No image is kept",
        "2026-11-30T10:00:00+00:00",
        "2026-11-30T15:30:00+05:30",
        "Asia/Kolkata",
        "https://img.example/a.jpg",
        "img.example",
        "cd" * 32,
        "test-list",
        "browser",
        "child",
        "lab-7",
        "0.1.0",
        "https://cybercrime.gov.in",
        "1930",
    ):
        assert shown in page, shown
    assert "matched an entry of the known-image hash list" in page


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_in_any_field_is_escaped(hostile: str) -> None:
    detail = ImageEvidence(
        sha256=hostile, label=hostile, page=hostile, list_name=hostile, model=hostile
    ).to_json()
    page = render_report(
        a_report(url=hostile, process=hostile, domain=hostile, profile=hostile, detail=detail)
    )
    assert hostile not in page
    assert str(escape(hostile)) in page
    tags = _tags(page)
    assert not [tag for tag, _ in tags if tag in ("script", "img", "iframe", "object", "embed")]
    assert all(not any(name.startswith("on") for name in attrs) for _, attrs in tags)


def test_the_page_links_to_nothing_and_loads_nothing() -> None:
    tags = _tags(render_report(a_report()))
    sources = [attrs for tag, attrs in tags if "src" in attrs or "href" in attrs]
    assert sources == []
    assert not [tag for tag, _ in tags if tag in ("img", "link", "script")]
