"""Search-text extraction for each engine, the generic rule, and hostile query strings."""

from __future__ import annotations

import pytest

from abhaya.filters.search import (
    HostPatterns,
    PathPatterns,
    SearchQuery,
    SearchRulesError,
    extract_query,
    parse_rules,
)


def split(url: str) -> tuple[str, str, str]:
    """Split "host/path?query" into (host, path, query), as the proxy hands them over."""
    rest, _, query = url.partition("?")
    host, slash, path = rest.partition("/")
    return host, slash + path, query


@pytest.mark.parametrize(
    ("url", "engine", "text"),
    [
        # Google, any country domain
        ("www.google.com/search?q=weather+delhi&hl=en", "google", "weather delhi"),
        ("www.google.co.in/search?q=%E0%A4%AE%E0%A5%8C%E0%A4%B8%E0%A4%AE", "google", "मौसम"),
        ("google.de/search?hl=de&q=wetter", "google", "wetter"),
        ("www.google.com.au/images?q=koala", "google", "koala"),
        ("www.google.com/complete/search?client=chrome&q=wea", "google", "wea"),
        ("www.google.com/webhp?q=snow", "google", "snow"),
        ("www.google.com/maps?q=snow", "generic", "snow"),
        # YouTube, including suggestions
        ("www.youtube.com/results?search_query=cat+videos", "youtube", "cat videos"),
        ("m.youtube.com/results?search_query=cats&sp=x", "youtube", "cats"),
        ("suggestqueries.google.com/complete/search?client=youtube&ds=yt&q=ca", "youtube", "ca"),
        ("suggestqueries.google.com/complete/search?client=firefox&q=ca", "google", "ca"),
        ("suggestqueries-clients6.youtube.com/complete/search?q=ca", "youtube", "ca"),
        # Bing
        ("www.bing.com/search?q=rain&form=QBLH", "bing", "rain"),
        ("www.bing.com/images/search?q=rain", "bing", "rain"),
        ("www.bing.com/AS/Suggestions?qry=x&q=ra", "bing", "ra"),
        # DuckDuckGo
        ("duckduckgo.com/?q=rain&t=h_", "duckduckgo", "rain"),
        ("html.duckduckgo.com/html/?q=rain", "duckduckgo", "rain"),
        ("duckduckgo.com/ac/?q=ra&kl=wt-wt", "duckduckgo", "ra"),
        # Yahoo
        ("search.yahoo.com/search?p=rain&fr=yfp", "yahoo", "rain"),
        ("in.search.yahoo.com/search;_ylt=abc?p=rain", "yahoo", "rain"),
        # Others
        ("yandex.ru/search/?text=rain&lr=213", "yandex", "rain"),
        ("yandex.com.tr/images/search?text=rain", "yandex", "rain"),
        ("www.ecosia.org/search?q=rain", "ecosia", "rain"),
        ("search.brave.com/search?q=rain&source=web", "brave", "rain"),
        ("www.startpage.com/sp/search?query=rain", "startpage", "rain"),
        ("www.qwant.com/?q=rain&t=web", "qwant", "rain"),
        # Generic rule on any other site
        ("shop.example/?search=blue+shoes", "generic", "blue shoes"),
        ("blog.example/?s=snow", "generic", "snow"),
        ("wiki.example/w/index.php?title=x&search=snow", "generic", "snow"),
        ("site.example/find?keywords=snow", "generic", "snow"),
        ("site.example/api?term=snow", "generic", "snow"),
        ("site.example/api?query=snow&q=rain", "generic", "rain"),
        ("site.example/search/results?p=snow", "generic", "snow"),
        # Hosts that only look like engines
        ("notgoogle.com/search?q=rain", "generic", "rain"),
        ("google.evil.example.com/search?q=rain", "generic", "rain"),
    ],
)
def test_extract_query(url: str, engine: str, text: str) -> None:
    assert extract_query(*split(url)) == SearchQuery(engine, text)


@pytest.mark.parametrize(
    "url",
    [
        "site.example/blog?p=2",  # "p" counts only on search paths
        "site.example/?page=2&id=7",
        "www.google.com/search",
        "www.google.com/search?q=&hl=en",
        "www.google.com/search?q=+++",
        "www.bing.com/search?form=QBLH",
        "www.google.com/search?search=x",  # an engine rule decides alone
    ],
)
def test_no_query(url: str) -> None:
    assert extract_query(*split(url)) is None


def test_first_non_empty_value_of_a_repeated_parameter() -> None:
    assert extract_query("www.google.com", "/search", "q=&q=snow&q=rain") == SearchQuery(
        "google", "snow"
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=" + "a" * 65_536, "a" * 65_536),
        ("x=" + "%" * 40_000 + "&q=snow", "snow"),
        ("q=%FF%FEsnow", "\ufffd\ufffdsnow"),
        ("q=snow%00day", "snow\x00day"),
        ("q=%E0%A4", "\ufffd"),
        ("&&&=&=&q==snow", "=snow"),
        ("q=%zz%", "%zz%"),
        ("=" * 1000, None),
        ("q" * 70_000, None),
    ],
)
def test_hostile_queries_never_raise(query: str, expected: str | None) -> None:
    result = extract_query("www.google.com", "/search", query)
    assert (result.query if result else None) == expected


@pytest.mark.parametrize(
    ("patterns", "host", "matches"),
    [
        (["google.*"], "google.com", True),
        (["google.*"], "www.google.co.in", True),
        (["google.*"], "images.google.com.br", True),
        (["google.*"], "google.com.evil.example", False),
        (["google.*"], "mygoogle.com", False),
        (["bing.com"], "bing.com", True),
        (["bing.com"], "cn.bing.com", True),
        (["bing.com"], "bing.com.example", False),
        (["bing.com"], "notbing.com", False),
    ],
)
def test_host_patterns(patterns: list[str], host: str, matches: bool) -> None:
    assert HostPatterns.compile(patterns).matches(host) is matches


@pytest.mark.parametrize(
    ("patterns", "path", "matches"),
    [
        (["*"], "/anything", True),
        (["/"], "/", True),
        (["/"], "/search", False),
        (["/search"], "/search", True),
        (["/search"], "/search/", True),
        (["/search"], "/Search/images", True),
        (["/search"], "/searchx", False),
    ],
)
def test_path_patterns(patterns: list[str], path: str, matches: bool) -> None:
    assert PathPatterns.compile(patterns).matches(path) is matches


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("engine = [", "Invalid"),
        ("[generic]\nparams = ['q']\n", "engine"),
        (
            "[[engine]]\nname='x'\nhosts=['bad host']\npaths=['*']\nparams=['q']\n"
            "[generic]\nparams=['q']\n",
            "bad host pattern",
        ),
        (
            "[[engine]]\nname='x'\nhosts=['x.example']\npaths=['search']\nparams=['q']\n"
            "[generic]\nparams=['q']\n",
            "bad path pattern",
        ),
        (
            "[[engine]]\nname='x'\nhosts=['x.example']\npaths=['*']\nparams=['q']\nextra=1\n"
            "[generic]\nparams=['q']\n",
            "extra",
        ),
    ],
)
def test_malformed_rules_name_the_file(text: str, message: str) -> None:
    with pytest.raises(SearchRulesError, match=f"rules.toml: .*{message}"):
        parse_rules(text, "rules.toml")
